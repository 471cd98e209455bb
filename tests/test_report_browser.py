"""The default report (main job, arms shrunk to 12 patients) as a user sees it: the CLI writes it, headless
Chromium draws every Plotly figure at 1400 px, every trajectory panel shows the whole follow-up, and table
numbers are rounded for reading.

Needs the system Chromium (Debian: `apt-get install -y chromium`, which `.ci/run` installs) and Playwright for
Python (dev extra), which drives it; the test fails, never skips, when either is missing.
Negative controls: the same page without the inline plotly.js renders no plot; the x-range and
rounding checks are shown to flag a clipped panel and a raw float (`test_checks_can_fail`).
"""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from t2dsim.cli import app
from t2dsim.report.browser import check_report_renders, figure_geometry, open_browser
from t2dsim.trial.protocol import load_protocol

EXAMPLE = Path(__file__).parents[1] / "examples" / "stem-cells-vs-standard-care.toml"
# Panels drawn against visit month (trajectories, individual patients, mechanism).
TRAJECTORY_TITLE = re.compile(r"mean and 95% CI$|random sample of up to|^Mechanism")
DECIMAL = re.compile(r"(?<![\w.])-?(\d+\.\d+)(?:e[+-]?\d+)?(?![\w.])")


def long_floats(html: str) -> list[str]:
    """Decimal numbers with more than 4 significant digits inside the report's tables."""
    bad = []
    for table in re.findall(r"<table.*?</table>", html, re.S):
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", table, re.S):
            for m in DECIMAL.finditer(re.sub(r"<[^>]+>", " ", cell)):
                digits = m.group(1).replace(".", "").lstrip("0")
                if len(digits) > 4:
                    bad.append(m.group(0))
    return bad


def clipped_or_short(geometry: list[dict], last_visit: float) -> list[str]:
    """Trajectory panels whose x-axis stops before the last visit or that are wider than their box."""
    bad = []
    for g in geometry:
        if not TRAJECTORY_TITLE.search(g["title"] or ""):
            continue
        if g["x_range"] is None or g["x_range"][1] < last_visit or g["width"] > g["box_width"] + 1:
            bad.append(f"{g['title']}: x {g['x_range']}, width {g['width']} in a {g['box_width']:.0f} px box")
    return bad


def test_checks_can_fail():
    assert long_floats("<table><tr><td>14.329658609000035</td><td>0.1234</td></tr></table>") == ["14.329658609000035"]
    assert long_floats("<table><tr><td>14.33</td><td>0.0001234</td><td>run 20251204</td></tr></table>") == []
    panel = {"title": "HbA1c (%): mean and 95% CI", "x_range": [-0.7, 12.7], "width": 1208, "box_width": 600}
    assert clipped_or_short([panel], 12.0)  # drawn wider than its box: right half cut off
    assert clipped_or_short([{**panel, "width": 600, "x_range": [-0.5, 6.2]}], 12.0)
    assert not clipped_or_short([{**panel, "width": 600}], 12.0)


def test_default_report_as_a_user_sees_it(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("n = 200", "n = 12")
    proto_path = tmp_path / "small.toml"
    proto_path.write_text(text)
    res = CliRunner().invoke(app, ["trial", str(proto_path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    m = re.search(r"report: (\S+\.html)", res.output)
    assert m, res.output
    report = Path(m.group(1))
    html = report.read_text()
    assert "Complications: UKPDS Outcomes Model 2" in html and "were not computed" not in html
    assert "not a treatment recommendation" in html
    assert "unregulated" in html.lower()  # the stem-cell risk list reaches the report
    assert '<script src="http' not in html  # self-contained
    assert long_floats(html) == []
    listing = CliRunner().invoke(app, ["runs", "--store", str(tmp_path / "out" / "runs")])
    assert listing.exit_code == 0 and "stem-cells-vs-standard-care" in listing.output

    last_visit = max(load_protocol(proto_path).visit_months)
    # negative control: strip the inline plotly.js -> nothing is drawn
    start = html.index('<script type="text/javascript">') + len('<script type="text/javascript">')
    end = html.index("</script>", start)
    broken = tmp_path / "broken.html"
    broken.write_text(html[:start] + html[end:])
    with open_browser() as browser:  # system Chromium through Playwright; FileNotFoundError if either is missing
        geometry = figure_geometry(report, window_width=1400, browser=browser)
        check = check_report_renders(report, screenshot=tmp_path / "report.png", window=(1400, 900), browser=browser)
        bad = check_report_renders(broken, browser=browser)
    assert sum(bool(TRAJECTORY_TITLE.search(g["title"] or "")) for g in geometry) >= 4
    assert clipped_or_short(geometry, last_visit) == []

    assert check.n_figure_divs == len(geometry) >= 8
    assert check.n_plot_containers == check.n_figure_divs, check
    assert check.coloured_pixels is not None and check.coloured_pixels > 50  # trace colour visible
    assert check.ok
    assert bad.n_figure_divs == check.n_figure_divs and bad.n_plot_containers == 0 and not bad.ok
