"""Screenshots of the built docs in headless Chromium, to look at what a reader sees.

    mkdocs build --strict && python tools/screenshots.py            # PNGs in /tmp/screens/

Serves `site/` on 127.0.0.1 (an ephemeral port, in a thread), takes a screenshot of each page
with Chromium (no network needed: MathJax and every picture come from the site itself), and
reads each page's DOM after its scripts ran to report how many formulas MathJax typeset
(`mjx-container` elements), how much TeX was left raw, and how many pictures the page holds.
Exit status 1 when a page has raw TeX left or no typeset formula where it should have one.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=10000"]
# page -> window height: tall enough for the whole page (Chromium captures the window)
PAGES = {"tutorial/": 24000, "api/": 16000, "guide/jacobians/": 6000}
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$|\\begin\{|\\frac")


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve `site` on 127.0.0.1 in a daemon thread; return the server and its base URL."""
    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # one line per file would drown the report
        pass


def chromium(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)


def visible_text(dom: str) -> str:
    """The DOM's text outside scripts, styles, code and MathJax's own output."""
    for tag in ("script", "style", "pre", "code", "mjx-container", "mjx-assistive-mml"):
        dom = re.sub(rf"<{tag}\b.*?</{tag}>", " ", dom, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", dom)


def report(page: str, dom: str) -> tuple[str, bool]:
    """One line on what rendered, and whether the page passes."""
    typeset = dom.count("<mjx-container")
    raw = RAW_TEX.findall(visible_text(dom))
    svgs = dom.count('src="data:image/svg+xml;base64')  # notebook pictures are <img>s
    pngs = dom.count('src="data:image/png;base64')
    ok = not raw and (typeset > 0 or page == "api/")
    line = (f"{page:18} formulas typeset: {typeset:3}   raw TeX left: {len(raw):2}   "
            f"SVG pictures: {svgs}   PNG plots: {pngs}   {'ok' if ok else 'PROBLEM'}")
    return line, ok


def tiles(png: Path, height: int = 2000) -> list[Path]:
    """Cut a tall screenshot into pieces an image viewer shows at full size (matplotlib reads
    and writes the PNGs; without it, no pieces). Blank space below the page is dropped."""
    try:
        import matplotlib.image as mpimg
    except ImportError:
        return []
    image = mpimg.imread(png)
    ink = (image[:, :, :3] < 0.97).any(axis=(1, 2)).nonzero()[0]
    end = min(int(ink.max()) + 40, image.shape[0]) if len(ink) else image.shape[0]
    out = []
    for k, top in enumerate(range(0, end, height)):
        out.append(png.with_name(f"{png.stem}-{k:02d}.png"))
        mpimg.imsave(out[-1], image[top:min(top + height, end)])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="the built site")
    parser.add_argument("--out", type=Path, default=Path("/tmp/screens"), help="PNG folder")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--tiles", action="store_true", help="also cut each PNG in pieces")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"no built site in {args.site}: run `mkdocs build --strict` first", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    server, base = serve(args.site)
    ok = True
    try:
        for page, height in PAGES.items():
            png = args.out / ((page.strip("/").replace("/", "-") or "index") + ".png")
            chromium(f"--screenshot={png}", f"--window-size={args.width},{height}", base + page)
            dom = chromium("--dump-dom", f"--window-size={args.width},{height}", base + page)
            line, page_ok = report(page, dom.stdout)
            ok &= page_ok and png.is_file()
            print(f"{line}   {png if png.is_file() else 'NO SCREENSHOT'}")
            if png.is_file() and args.tiles:
                print(f"{'':18} {len(tiles(png))} pieces: {png.stem}-NN.png")
    finally:
        server.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
