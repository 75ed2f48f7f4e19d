"""MkDocs hook: serve MathJax from the built site, so that the pages render math offline.

The docs are checked in a headless browser on a machine without network, and readers may read
them offline, so no formula may depend on a CDN. The `django-static-mathjax` package (in the
`docs` extra; it needs no Django to be installed or imported) ships MathJax 3's browser
build; after the build this copies the parts that `tex-chtml.js` loads into `site/mathjax/`
(docs/javascripts/mathjax.js points there).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from mkdocs.exceptions import PluginError

# tex-chtml.js and what it may load at run time (fonts, TeX extensions, the menu's parts);
# the other combined builds (tex-svg.js, ...) are not used.
PARTS = ("tex-chtml.js", "output/chtml", "input/tex", "ui", "a11y", "adaptors", "sre")


def mathjax_dir() -> Path:
    """The es5 folder of the installed MathJax, or a one-line error naming the package."""
    spec = importlib.util.find_spec("mathjax")
    if spec is not None and spec.submodule_search_locations:
        es5 = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
        if (es5 / "tex-chtml.js").is_file():
            return es5
    raise PluginError("the docs render math with a local MathJax: pip install "
                      "django-static-mathjax (or pip install -e '.[docs]')")


def on_post_build(config, **kwargs) -> None:
    es5 = mathjax_dir()
    target = Path(config["site_dir"]) / "mathjax" / "es5"
    for part in PARTS:
        source = es5 / part
        if source.is_dir():
            shutil.copytree(source, target / part, dirs_exist_ok=True)
        elif source.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / part)
    shutil.copy2(es5.parent / "LICENSE", target.parent / "LICENSE")
