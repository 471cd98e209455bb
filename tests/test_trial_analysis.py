"""The analysis is computed once (trial/analysis.py): the CLI's endpoint table, the analysis stored with the
run and the report's endpoint table show the same numbers (issue 13, acceptance 2)."""

from __future__ import annotations

import ast
import html as html_module
import re
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from t2dsim import store
from t2dsim.cli import app
from t2dsim.trial.analysis import TrialAnalysis

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "stem-cells-vs-standard-care.toml"


_CLI_LINE = re.compile(
    r"^(?P<endpoint>.+), (?P<arm>\S+) vs (?P<reference>\S+): (?P<estimate>\S+) "
    r"\(95% CI \(sampling, these patients\) (?P<ci_low>\S+) to (?P<ci_high>\S+), p (?:= )?(?P<p>\S+)\)"
    r"; 95% PI \(parameter uncertainty, \d+ posterior draws\) (?P<pi_low>\S+) to (?P<pi_high>\S+)$"
)


def _cli_rows(output: str) -> pd.DataFrame:
    """The endpoint lines the CLI printed."""
    rows = [m.groupdict() for m in map(_CLI_LINE.match, output.splitlines()) if m]
    return pd.DataFrame(rows)


def _report_rows(html: str) -> list[list[str]]:
    """Rows (cell texts) of the report's endpoint table."""
    section = html[html.index('<section id="endpoints">') :]
    table = section[: section.index("</table>")]
    return [re.findall(r"<td>(.*?)</td>", tr, flags=re.S) for tr in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)]


def test_cli_store_and_report_show_the_same_endpoint_numbers(tmp_path):
    proto = tmp_path / "small.toml"
    proto.write_text(re.sub(r"(?m)^n = \d+", "n = 10", EXAMPLE.read_text()))
    res = CliRunner().invoke(app, ["trial", str(proto), "--out", str(tmp_path / "o"), "--no-complications"])
    assert res.exit_code == 0, res.output
    cli = _cli_rows(res.output)
    run_id = store.list_runs(tmp_path / "o" / "runs")["run_id"].iloc[0]
    stored = TrialAnalysis.load(store.run_folder(tmp_path / "o" / "runs", run_id) / "analysis")
    table = stored.endpoint_table()
    assert len(cli) == len(table) == 6  # 3 endpoints x 2 comparisons with placebo
    # the CLI prints the stored numbers at 4 significant digits, p to 3 decimals
    for c in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        assert cli[c].tolist() == [f"{v:.4g}" for v in table[c]], c
    assert cli["p"].tolist() == [("<0.001" if p < 0.001 else f"{p:.3f}") for p in table["p_value"]]
    assert cli["endpoint"].tolist() == table["endpoint"].tolist()
    # the report's endpoint table shows exactly the CLI's strings
    html = next((tmp_path / "o").glob("*.html")).read_text()
    rows = _report_rows(html)
    assert len(rows) == len(table)
    for row, (_, c) in zip(rows, cli.iterrows(), strict=True):
        cells = [html_module.unescape(x) for x in row]
        assert cells[6] == c["estimate"] and cells[7] == f"{c['ci_low']} to {c['ci_high']}" and cells[8] == c["p"], row
        assert cells[9] == f"{c['pi_low']} to {c['pi_high']}", row
    # beside the 12-month UC-MSC HbA1c difference: the pooled MSC RCT evidence, Kashbour et al., Diabetol Metab
    # Syndr 2025;17:189 (13 RCTs, HbA1c -0.72 %, 95 % CI -1.11 to -0.33 at 12 months; pools T1D and T2D)
    ev = html_module.unescape(html[html.index('<section id="msc-evidence">') :].split("</section>")[0])
    msc = cli.loc[(cli["arm"] == "uc_msc") & cli["endpoint"].str.startswith("HbA1c")].iloc[0]
    assert msc["estimate"] in ev and f"{msc['pi_low']} to {msc['pi_high']}" in ev
    assert "-0.72" in ev and "95% CI -1.11 to -0.33" in ev and "13 RCTs" in ev
    assert "pools type 1 and type 2 diabetes" in ev


def test_report_package_has_no_statistics_code():
    """report/ renders a TrialAnalysis: it imports no statistics module (nor scipy/statsmodels)."""
    for path in (ROOT / "src" / "t2dsim" / "report").glob("*.py"):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        bad = [m for m in names if m.startswith(("t2dsim.trial.statistics", "scipy", "statsmodels"))]
        assert not bad, f"{path.name} imports {bad}"
