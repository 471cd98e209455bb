"""The report opened in headless Chromium draws its Plotly figures (offline).

Needs a Chromium binary (Debian: `apt-get install -y chromium`); skipped with that reason if absent.
Negative control: the same page without the inline plotly.js must render no plot.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from t2dsim.report import write_report
from t2dsim.report.browser import check_report_renders, find_chromium
from t2dsim.trial.protocol import load_protocol
from t2dsim.trial.synthetic import synthetic_trial

pytestmark = pytest.mark.skipif(
    find_chromium() is None, reason="Chromium not installed (Debian: apt-get install -y chromium)"
)


def test_plots_render_in_headless_chromium(tmp_path: Path) -> None:
    proto = load_protocol(Path(__file__).parent / "data" / "good_protocol.toml")
    res, pat = synthetic_trial(
        {"placebo": 40, "uc_msc": 40, "islets": 40},
        {"islets": -1.0},
        seed=5,
        annual_dropout=0.1,
        graft_mass_mg={"islets": 300},
    )
    out = write_report(res, pat, proto, tmp_path / "report.html")
    check = check_report_renders(out, screenshot=tmp_path / "report.png")
    assert check.n_figure_divs >= 8
    assert check.n_plot_containers == check.n_figure_divs, check
    assert check.n_main_svg >= check.n_figure_divs
    assert check.coloured_pixels is not None and check.coloured_pixels > 50  # trace colour visible
    assert check.ok

    # negative control: strip the inline plotly.js -> nothing is drawn
    text = out.read_text()
    start = text.index('<script type="text/javascript">') + len('<script type="text/javascript">')
    end = text.index("</script>", start)
    broken = tmp_path / "broken.html"
    broken.write_text(text[:start] + text[end:])
    bad = check_report_renders(broken)
    assert bad.n_plot_containers == 0 and not bad.ok
