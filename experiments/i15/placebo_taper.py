"""Issue 15, acceptance 3: the default trial's placebo arm insulin course against the stem-cell trials' control
arms, and whether the down-only taper with day-to-day fasting noise ratchets doses down.

Runs the default protocol's placebo arm (n per arm from argv, default 200) three ways: as shipped
(protocol_taper, fpg_day_cv from the table), with the day-to-day fasting variability off (fpg_day_cv = 0), and
without the trial-participation effect. Prints median and mean % insulin change at 12 months (patients on
insulin at baseline), true values.
Run: PYTHONPATH=src nice -n 10 /work/main/.venv/bin/python experiments/i15/placebo_taper.py 200
"""

import re
import sys
from pathlib import Path

import numpy as np

from t2dsim.therapies import insulin as insulin_mod
from t2dsim.trial.protocol import parse_protocol
from t2dsim.trial.runner import run_trial

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
TEXT = Path("examples/stem-cells-vs-standard-care.toml").read_text()
# keep only the placebo arm
head, *arms = re.split(r"(?m)^\[\[arms\]\]\n", TEXT)
tail_start = arms[-1].index("[randomisation]")
tail = arms[-1][tail_start:]
arms[-1] = arms[-1][:tail_start]
placebo = [a for a in arms if 'name = "placebo"' in a][0]
BASE = head + "[[arms]]\n" + placebo + tail
BASE = re.sub(r"(?m)^n = \d+", f"n = {N}", BASE)


def course(text: str) -> str:
    run = run_trial(parse_protocol(text), chunk_size=256)
    r = run.true_results
    ins = r[r["measure"] == "insulin_u_per_day"].pivot_table(index="patient_id", columns="visit_month", values="value")
    on = ins[0.0] > 0
    pct = 100 * (ins.loc[on, 12.0] / ins.loc[on, 0.0] - 1)
    a1c = r[r["measure"] == "hba1c_percent"].pivot_table(index="patient_id", columns="visit_month", values="value")
    fpg = r[r["measure"] == "fpg_mgdl"].pivot_table(index="patient_id", columns="visit_month", values="value")
    by_visit = "  ".join(f"m{int(v)} {ins.loc[on, v].median():.1f}" for v in ins.columns)
    return (
        f"n on insulin {on.sum()}: median dose {by_visit} U/day; % change m12 median {pct.median():.1f} "
        f"(IQR {pct.quantile(0.25):.1f} to {pct.quantile(0.75):.1f}), mean {pct.mean():.1f}; "
        f"stopped {np.mean(ins.loc[on, 12.0] == 0):.2f}; "
        f"HbA1c {a1c[0.0].mean():.2f} -> {a1c[12.0].mean():.2f}; FPG {fpg[0.0].mean():.0f} -> {fpg[12.0].mean():.0f}"
    )


print("as shipped:        ", course(BASE))
orig = insulin_mod.BasalInsulin.__init__


def no_noise(self, *a, **kw):
    kw["fpg_day_cv"] = 0.0
    orig(self, *a, **kw)


insulin_mod.BasalInsulin.__init__ = no_noise
print("fpg_day_cv = 0:    ", course(BASE))
insulin_mod.BasalInsulin.__init__ = orig
print("no trial effect:   ", course(BASE.replace("\nduration_months", "\ntrial_effect = false\nduration_months", 1)))
