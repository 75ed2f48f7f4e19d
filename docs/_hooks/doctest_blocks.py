"""Griffe extension for the API reference: show docstrings' `>>>` examples as code.

autodx's docstrings are short prose with doctest examples and no "Examples:" section, so a
Markdown renderer would read each `>>>` line as three nested block quotes. This fences every
run of doctest lines (a `>>>` line, its `...` continuations and its output, up to a blank
line) as a `pycon` code block.
"""

from __future__ import annotations

import griffe


def fence_doctests(text: str) -> str:
    """The docstring with each doctest run inside a ```pycon fence (fenced code untouched)."""
    out: list[str] = []
    in_fence = in_doctest = False
    indent = 0
    for line in text.splitlines():
        stripped = line.strip()
        if in_doctest and not stripped:
            out += ["```", ""]
            in_doctest = False
            continue
        if stripped.startswith("```") and not in_doctest:
            in_fence = not in_fence
        elif not in_fence and not in_doctest and stripped.startswith(">>>"):
            out += ["", "```pycon"]
            in_doctest, indent = True, len(line) - len(line.lstrip())
        out.append(line[indent:] if in_doctest else line)
    if in_doctest:
        out.append("```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fence the doctest examples of every object the API reference documents."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
