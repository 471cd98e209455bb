"""Check in headless Chromium, driven by Playwright, that a report's Plotly figures render (offline).

Usage as a script::

    python -m t2dsim.report.browser out/report.html [--screenshot shot.png]

exits 0 when every figure ``<div>`` of the page became a rendered Plotly plot (``.plot-container``
with ``.main-svg`` layers), 1 otherwise, 2 when no Chromium or no Playwright is installed (Debian:
``apt-get install -y chromium``; ``pip install playwright``, part of the ``dev`` extra).

Playwright drives the *system* Chromium (``executable_path``); ``playwright install`` is never needed and never
run, so nothing downloads a browser.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["BrowserCheck", "check_report_renders", "figure_geometry", "find_chromium", "open_browser"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# Headless, offline-friendly flags (no sandbox: CI containers run as root; no GPU; no background traffic).
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]
# Resolves when every Plotly div is drawn, or at once when plotly.js is absent (nothing will ever be drawn).
_DRAWN = """() => typeof Plotly === 'undefined' ||
  document.querySelectorAll('.plot-container').length >= document.querySelectorAll('.plotly-graph-div').length"""
# Each drawn figure's title, x-axis range, laid-out width and the width of its box (wider = clipped on the right).
_GEOMETRY = """() => Array.from(document.querySelectorAll('.plotly-graph-div')).filter(g => g._fullLayout).map(g => {
  const fl = g._fullLayout;
  return {id: g.id, title: fl.title ? fl.title.text : '', x_range: fl.xaxis ? fl.xaxis.range : null,
          x_type: fl.xaxis ? fl.xaxis.type : null, width: fl.width, box_width: g.getBoundingClientRect().width};
})"""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or None."""
    for name in _CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@contextmanager
def open_browser(chromium: str | None = None) -> Iterator[Any]:
    """Headless system Chromium launched through Playwright (one browser for several pages).

    Raises:
        FileNotFoundError: no Chromium executable or Playwright not installed.
    """
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("no Chromium/Chrome executable found (Debian: apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # dev extra
        raise FileNotFoundError("Playwright for Python is not installed (pip install -e '.[dev]')") from exc
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def _page(html_path: Path, browser: Any, chromium: str | None, viewport: tuple[int, int], timeout_s: float):
    if browser is None:
        with open_browser(chromium) as own, _page(html_path, own, None, viewport, timeout_s) as page:
            yield page
        return
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        page.set_default_timeout(timeout_s * 1000)
        page.goto(html_path.as_uri(), wait_until="load")
        page.wait_for_function(_DRAWN)
        yield page
    finally:
        page.close()


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


def _existing(html_path: str | Path) -> Path:
    path = Path(html_path).resolve()
    if not path.exists():
        raise FileNotFoundError(path)
    return path


def check_report_renders(
    html_path: str | Path,
    chromium: str | None = None,
    screenshot: str | Path | None = None,
    timeout_s: float = 60.0,
    window: tuple[int, int] = (1300, 900),
    browser: Any = None,
) -> BrowserCheck:
    """Open a report in headless Chromium and count the rendered Plotly elements.

    Args:
        html_path: report file.
        chromium: browser executable (default: :func:`find_chromium`); ignored when ``browser`` is given.
        screenshot: optional PNG to write (whole page at ``window`` width).
        timeout_s: limit for loading the page and drawing the figures.
        window: viewport (width, height) in pixels.
        browser: a browser from :func:`open_browser` to reuse (default: launch one for this call).

    Raises:
        FileNotFoundError: no Chromium or Playwright found, or report missing.
    """
    path = _existing(html_path)
    n_divs = len(re.findall(r'class="plotly-graph-div"', path.read_text(encoding="utf-8")))
    shot: Path | None = None
    coloured: int | None = None
    with _page(path, browser, chromium, window, timeout_s) as page:
        n_containers = page.locator("div.plot-container").count()
        n_svg = page.locator("svg.main-svg").count()
        if screenshot is not None:
            shot = Path(screenshot).resolve()
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
            coloured = _count_trace_colour(shot)
    return BrowserCheck(n_divs, n_containers, n_svg, shot, coloured)


def figure_geometry(
    html_path: str | Path,
    chromium: str | None = None,
    window_width: int = 1400,
    timeout_s: float = 60.0,
    browser: Any = None,
) -> list[dict]:
    """Each drawn figure's title, x-axis range, laid-out width and box width, as rendered in headless Chromium
    at ``window_width`` pixels (read from Plotly's ``_fullLayout`` in the page; the report is not changed).

    Raises:
        FileNotFoundError: no Chromium or Playwright found, or report missing.
    """
    path = _existing(html_path)
    with _page(path, browser, chromium, (window_width, 3000), timeout_s) as page:
        return page.evaluate(_GEOMETRY)


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
