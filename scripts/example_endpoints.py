"""Per-arm endpoint summary of every example protocol (for before/after comparisons of a refactor).

Usage: python scripts/example_endpoints.py OUT.json [--compare BEFORE.json]

Runs each protocol in examples/ through the public pipeline API (no report, no complications) and
records, per arm, visit and measure, the mean and its Monte Carlo standard error over patients, and
the ANCOVA endpoint estimates. With --compare, prints each row's difference in units of the combined
Monte Carlo SE, sqrt(se_before^2 + se_after^2), and exits 1 if any exceeds 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from t2dsim.trial.protocol import load_protocol
from t2dsim.trial.runner import run_trial
from t2dsim.trial.statistics import analyse_endpoints


def summarise(path: Path) -> dict:
    protocol = load_protocol(path)
    run = run_trial(protocol)
    res = run.results
    rows = {}
    for (arm, month, measure), g in res.groupby(["arm", "visit_month", "measure"]):
        v = g["value"].dropna().to_numpy()
        if v.size < 2:
            continue
        rows[f"{arm}|{month}|{measure}"] = {"mean": float(v.mean()), "se": float(v.std(ddof=1) / np.sqrt(v.size))}
    reference = protocol.analysis.reference_arm or protocol.arms[0].name
    eps = [protocol.endpoints.primary, *protocol.endpoints.secondary]
    ep = analyse_endpoints(res, eps, reference, alpha=protocol.analysis.alpha, missing=protocol.analysis.missing)
    endpoints = {}
    for _, r in ep.iterrows():
        key = f"endpoint|{r['arm']}|{r['measure']}"
        endpoints[key] = {"mean": float(r["estimate"]), "se": float(r.get("se", np.nan))}
    return {"visits": rows, "endpoints": endpoints}


def main() -> int:
    out = Path(sys.argv[1])
    summary = {p.name: summarise(p) for p in sorted(Path("examples").glob("*.toml"))}
    out.write_text(json.dumps(summary, indent=1))
    if "--compare" in sys.argv:
        before = json.loads(Path(sys.argv[sys.argv.index("--compare") + 1]).read_text())
        worst = 0.0
        for proto, parts in summary.items():
            for part in ("visits", "endpoints"):
                for key, a in parts[part].items():
                    b = before.get(proto, {}).get(part, {}).get(key)
                    if b is None:
                        print(f"{proto} {key}: new row")
                        continue
                    se = float(np.hypot(a["se"], b["se"]))
                    z = 0.0 if se == 0 or not np.isfinite(se) else (a["mean"] - b["mean"]) / se
                    if abs(a["mean"] - b["mean"]) > 0 and se == 0:
                        z = np.inf
                    worst = max(worst, abs(z))
                    flag = " <-- beyond 2 SE" if abs(z) > 2 else ""
                    print(f"{proto:36s} {key:60s} before {b['mean']:10.4g} after {a['mean']:10.4g} z {z:+.2f}{flag}")
        print(f"largest |z|: {worst:.2f}")
        return 0 if worst <= 2 else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
