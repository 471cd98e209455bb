"""Check in headless Chromium that a report's Plotly figures render (offline).

Usage as a script::

    python -m t2dsim.report.browser out/report.html [--screenshot shot.png]

exits 0 when every figure ``<div>`` of the page became a rendered Plotly plot (``.plot-container``
with ``.main-svg`` layers), 1 otherwise, 2 when no Chromium is installed (Debian:
``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BrowserCheck", "check_report_renders", "chromium_command", "figure_geometry", "find_chromium"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or None."""
    for name in _CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_command(chromium: str, user_data_dir: str, budget_ms: int = 15000) -> list[str]:
    """Headless, offline-friendly Chromium command prefix (no sandbox, no GPU, no background traffic)."""
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={user_data_dir}",
        f"--virtual-time-budget={budget_ms}",
    ]


@dataclass(frozen=True)
class BrowserCheck:
    """Outcome of :func:`check_report_renders`.

    Attributes:
        n_figure_divs: Plotly figure ``<div>`` elements in the HTML source.
        n_plot_containers: ``div.plot-container`` elements in the rendered DOM (one per drawn figure).
        n_main_svg: ``svg.main-svg`` layers in the rendered DOM (2-3 per drawn figure).
        screenshot: PNG path if a screenshot was taken.
        coloured_pixels: pixels of the screenshot close to the first Plotly trace colour (#1f77b4).
    """

    n_figure_divs: int
    n_plot_containers: int
    n_main_svg: int
    screenshot: Path | None
    coloured_pixels: int | None

    @property
    def ok(self) -> bool:
        """All figures rendered (and, if a screenshot was taken, traces are visible in it)."""
        drawn = self.n_figure_divs > 0 and self.n_plot_containers == self.n_figure_divs
        drawn = drawn and self.n_main_svg >= self.n_figure_divs
        return drawn and (self.coloured_pixels is None or self.coloured_pixels > 50)


def _count_trace_colour(png: Path, rgb: tuple[int, int, int] = (31, 119, 180), tol: int = 12) -> int:
    import matplotlib.image as mpimg
    import numpy as np

    img = mpimg.imread(str(png))
    if img.dtype != np.uint8:
        img = (img[..., :3] * 255).round().astype(np.int16)
    else:
        img = img[..., :3].astype(np.int16)
    return int(np.all(np.abs(img - np.array(rgb)) <= tol, axis=-1).sum())


def check_report_renders(
    html_path: str | Path,
    chromium: str | None = None,
    screenshot: str | Path | None = None,
    budget_ms: int = 15000,
    timeout_s: float = 180.0,
    window: tuple[int, int] = (1300, 6000),
) -> BrowserCheck:
    """Open a report in headless Chromium, dump the DOM and count the rendered Plotly elements.

    Args:
        html_path: report file.
        chromium: browser executable (default: :func:`find_chromium`).
        screenshot: optional PNG to write (page of size ``window``).
        budget_ms: virtual time given to scripts before the DOM is dumped.
        timeout_s: wall-clock limit per browser call.
        window: screenshot size (width, height) in pixels.

    Raises:
        FileNotFoundError: no Chromium found or report missing.
        RuntimeError: the browser failed.
    """
    html_path = Path(html_path).resolve()
    if not html_path.exists():
        raise FileNotFoundError(html_path)
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("no Chromium/Chrome executable found (Debian: apt-get install -y chromium)")
    source = html_path.read_text(encoding="utf-8")
    n_divs = len(re.findall(r'class="plotly-graph-div"', source))
    url = html_path.as_uri()
    with tempfile.TemporaryDirectory(prefix="t2dsim-chromium-") as tmp:
        proc = subprocess.run(
            [*chromium_command(exe, tmp, budget_ms), "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f"chromium --dump-dom failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    dom = proc.stdout
    n_containers = len(re.findall(r'<div class="plot-container[ "]', dom))
    n_svg = len(re.findall(r'<svg class="main-svg"', dom))
    shot: Path | None = None
    coloured: int | None = None
    if screenshot is not None:
        shot = Path(screenshot).resolve()
        shot.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="t2dsim-chromium-") as tmp:
            proc = subprocess.run(
                [
                    *chromium_command(exe, tmp, budget_ms),
                    f"--window-size={window[0]},{window[1]}",
                    f"--screenshot={shot}",
                    url,
                ],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        if proc.returncode != 0 or not shot.exists():
            raise RuntimeError(f"chromium --screenshot failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
        coloured = _count_trace_colour(shot)
    return BrowserCheck(n_divs, n_containers, n_svg, shot, coloured)


# Runs in the page after load: for every drawn Plotly figure, its title, x-axis range, laid-out width
# and the width of the box it sits in (a figure wider than its box is clipped on the right).
_PROBE = """<script>window.addEventListener('load', function () { setTimeout(function () {
  var out = [];
  document.querySelectorAll('.plotly-graph-div').forEach(function (g) {
    var fl = g._fullLayout; if (!fl) { return; }
    out.push({id: g.id, title: fl.title ? fl.title.text : '', x_range: fl.xaxis ? fl.xaxis.range : null,
              x_type: fl.xaxis ? fl.xaxis.type : null, width: fl.width,
              box_width: g.getBoundingClientRect().width});
  });
  var pre = document.createElement('pre'); pre.id = 't2dsim-probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}, 500); });</script>"""


def figure_geometry(
    html_path: str | Path,
    chromium: str | None = None,
    window_width: int = 1400,
    budget_ms: int = 15000,
    timeout_s: float = 180.0,
) -> list[dict]:
    """Each drawn figure's title, x-axis range, laid-out width and box width, as rendered in headless Chromium.

    The report is copied with a small probe script appended (the original is not changed) and opened at
    ``window_width`` pixels.

    Raises:
        FileNotFoundError: no Chromium found or report missing.
        RuntimeError: the browser failed or the probe did not report.
    """
    import html as _html
    import json

    html_path = Path(html_path).resolve()
    if not html_path.exists():
        raise FileNotFoundError(html_path)
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("no Chromium/Chrome executable found (Debian: apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="t2dsim-chromium-") as tmp:
        probed = Path(tmp) / "probe.html"
        probed.write_text(html_path.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), "utf-8")
        proc = subprocess.run(
            [
                *chromium_command(exe, str(Path(tmp) / "profile"), budget_ms),
                f"--window-size={window_width},3000",
                "--dump-dom",
                probed.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    m = re.search(r'<pre id="t2dsim-probe">(.*?)</pre>', proc.stdout, re.S)
    if proc.returncode != 0 or m is None:
        raise RuntimeError(f"chromium probe failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(_html.unescape(m.group(1)))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: check a report, print the counts, return an exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path)
    ap.add_argument("--screenshot", type=Path, default=None)
    ap.add_argument("--chromium", default=None)
    args = ap.parse_args(argv)
    try:
        res = check_report_renders(args.report, chromium=args.chromium, screenshot=args.screenshot)
    except FileNotFoundError as exc:
        print(f"cannot check: {exc}", file=sys.stderr)
        return 2
    print(
        f"figures in HTML: {res.n_figure_divs}; rendered plot containers: {res.n_plot_containers}; "
        f"main-svg layers: {res.n_main_svg}"
        + (f"; screenshot {res.screenshot} ({res.coloured_pixels} trace-coloured pixels)" if res.screenshot else "")
    )
    print("OK: all plots rendered" if res.ok else "FAIL: some plots did not render")
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
