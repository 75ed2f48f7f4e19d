"""The documentation cannot show a wrong value: every ```python block of README.md and docs/
runs as pasted, the outputs the blocks show are checked, the tutorial executes with the right
printed values, and the site builds with `mkdocs build --strict`.

Conventions the docs follow (so that these tests can read them):
- A file's ```python blocks run top to bottom in one fresh namespace, as a reader pasting them
  would. Shell commands are ```bash or ```console and are not run.
- An expression statement with a trailing comment that reads as a value (`# 12.0`,
  `# [[4, 2], [1, -1]]`, `# tensor(12.)`, `# (3.0, 2.0, 5.0): two traces`) is checked
  against that value; a comment in words (`# map over rows of xs`) is left alone.
- A ```text block right after a ```python block (blank lines only between) is what that
  block prints. `...` stands for
  text left out, `<angle brackets>` for a placeholder; whitespace and line breaks are free.
- A ```console block is a terminal transcript: each `$ autodx ...` line is run, and the lines
  up to the next `$` are what it prints (`...` as above). Other commands are not run.
- `<!-- docs-test: skip (reason) -->` on the line before a block skips it (rare, with a reason).
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<lang>[\w+-]*)[^\n]*$")
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<why>[^)]+)\)\s*-->")


@dataclass
class Block:
    """One fenced block: its language, its code (dedented), and where it starts (1-based)."""

    lang: str
    code: str
    line: int
    skip: str | None = None
    follows: bool = False  # only blank lines between this block and the one before


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, in order (indented fences in lists included)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, i, last_end = [], 0, -1
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        skip = SKIP.search(lines[i - 1]) if i else None
        body, j = [], i + 1
        while j < len(lines) and lines[j].strip() != fence:
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j])
            j += 1
        follows = last_end >= 0 and not any(line.strip() for line in lines[last_end + 1:i])
        found.append(Block(m["lang"].lower(), "\n".join(body) + "\n", i + 2,
                           skip["why"] if skip else None, follows))
        i, last_end = j + 1, j
    return found


def _comments(code: str) -> dict[int, str]:
    """Line number -> the trailing comment on that line."""
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string
    return out


def _plain(value):
    """A value as NumPy data: Tensors and pytrees of them become arrays and tuples."""
    if hasattr(value, "numpy") and callable(value.numpy):
        return value.numpy()
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    return value


def _same(value, expected) -> bool:
    """`value` is what `expected` (a literal from a comment) shows: numbers to rounding."""
    if isinstance(expected, bool):
        return bool(value) is expected
    if isinstance(expected, str):
        return value == expected
    value = _plain(value)
    if isinstance(expected, (tuple, list)) and isinstance(value, (tuple, list)):
        return len(value) == len(expected) and all(map(_same, value, expected))
    try:
        got, want = np.asarray(_plain(value)), np.asarray(expected)
        return got.shape == want.shape and bool(np.allclose(got, want, rtol=1e-6, atol=1e-9))
    except (TypeError, ValueError):  # not numbers (a None among them, ragged tuples)
        return False


def check_shown_value(value, comment: str, where: str) -> None:
    """Check `expr  # shown` when the comment reads as a value; leave words alone."""
    text = comment.lstrip("#").strip().removeprefix("->").strip()
    candidates = [text, text.split(": ")[0]]
    flat = {" ".join(repr(value).split()), " ".join(str(value).split())}
    flat |= {s.replace("[ ", "[").replace("( ", "(") for s in flat}  # NumPy's sign padding
    if any(" ".join(c.split()) in flat for c in candidates):
        return
    for candidate in candidates:
        try:
            expected = ast.literal_eval(candidate.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if expected is not None:
            assert _same(value, expected), f"{where}: shows {candidate!r}, computes {value!r}"
            return
    assert not text.startswith(("tensor(", "array(")), \
        f"{where}: shows {text!r}, computes {value!r}"


def run_block(block: Block, namespace: dict, filename: str) -> str:
    """Run a block statement by statement (so shown values can be checked); return stdout.
    Tracebacks name the Markdown file and its line."""
    tree = ast.parse(block.code, filename=filename)
    ast.increment_lineno(tree, block.line - 1)
    comments = {n + block.line - 1: c for n, c in _comments(block.code).items()}
    last_on_line = {stmt.end_lineno: stmt for stmt in tree.body}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for stmt in tree.body:
            shown = comments.get(stmt.end_lineno)
            if isinstance(stmt, ast.Expr) and shown and last_on_line[stmt.end_lineno] is stmt:
                value = eval(compile(ast.Expression(stmt.value), filename, "eval"), namespace)
                check_shown_value(value, shown, f"{filename}:{stmt.lineno}")
            else:
                exec(compile(ast.Module([stmt], []), filename, "exec"), namespace)
    return out.getvalue()


def check_printed(printed: str, shown: str, where: str) -> None:
    """Every piece of a ```text block appears in what the block printed, in order."""
    flat = " ".join(printed.split())
    pieces = [" ".join(p.split()) for p in re.split(r"\.\.\.|<[^<>\n]+>", shown)]
    at = 0
    for piece in filter(None, pieces):
        found = flat.find(piece, at)
        assert found >= 0, f"{where}: the shown output {piece!r} is not in what it printed:\n" \
                           f"{printed}"
        at = found + len(piece)


def _doc_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", DOC_FILES, ids=_doc_id)
def test_code_blocks_run_as_pasted(path, tmp_path, monkeypatch):
    """Each file's python blocks, in order, in one namespace; shown values and output hold."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)  # a block that writes a file writes it here
    namespace: dict = {"__name__": "__main__"}
    found = blocks(path)
    for k, block in enumerate(found):
        if block.lang != "python" or block.skip:
            continue
        printed = run_block(block, namespace, _doc_id(path))
        following = found[k + 1] if k + 1 < len(found) else None
        if following is not None and following.lang == "text" and following.follows:
            check_printed(printed, following.code, f"{_doc_id(path)}:{block.line}")


def transcripts(path: Path) -> list[tuple[str, str, str]]:
    """(where, command, shown output) for each `$ autodx ...` line of the ```console blocks."""
    found = []
    for block in blocks(path):
        if block.lang != "console" or block.skip:
            continue
        lines = block.code.splitlines()
        for k, line in enumerate(lines):
            if line.startswith("$ autodx "):
                shown = []
                for later in lines[k + 1:]:
                    if later.startswith("$ "):
                        break
                    shown.append(later)
                found.append((f"{_doc_id(path)}:{block.line + k}", line[2:], "\n".join(shown)))
    return found


TRANSCRIPTS = [t for path in DOC_FILES for t in transcripts(path)]


@pytest.mark.parametrize("where,command,shown", TRANSCRIPTS, ids=[t[0] for t in TRANSCRIPTS])
def test_console_transcripts_are_true(where, command, shown, tmp_path):
    """What a page shows `autodx ...` printing is what it prints."""
    argv = [sys.executable, "-m", "autodx", *shlex.split(command)[1:]]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    check_printed(result.stdout + result.stderr, shown, where)


def test_skips_are_rare_and_justified():
    skipped = [(p.name, b.line, b.skip) for p in DOC_FILES for b in blocks(p) if b.skip]
    assert len(skipped) <= 2, skipped
    assert all(len(why.split()) >= 3 for *_, why in skipped), skipped


def test_every_fenced_block_says_what_it_is():
    """A bare ``` fence would hide code from these tests: each block names its language."""
    bare = [(_doc_id(p), b.line) for p in DOC_FILES for b in blocks(p) if not b.lang]
    assert not bare, f"fenced blocks without a language (python, bash, text, ...): {bare}"


def test_shown_values_are_really_checked():
    """The checker fails on a wrong shown value, so a passing doc is not a vacuous one."""
    ns: dict = {}
    run_block(Block("python", "x = 6\nx * 2  # 12\nx + 1  # the next one\n", 1), ns, "ok")
    with pytest.raises(AssertionError, match="shows"):
        run_block(Block("python", "x * 2  # 13.0\n", 1), ns, "bad")
    with pytest.raises(AssertionError, match="shows"):
        run_block(Block("python", "[x, x]  # [[6, 6]]\n", 1), ns, "shape")
    with pytest.raises(AssertionError, match="not in what it printed"):
        check_printed("ValueError: wrong\n", "TypeError: ...", "printed")
    check_printed("anomaly: log at /tmp/a.py:7: return", "anomaly: log at\n<your file>:7: ...",
                  "placeholder")


# ----------------------------------------------------------------------------- the tutorial

TUTORIAL = ROOT / "docs" / "tutorial.py"


def _outputs(cell) -> str:
    """Everything a code cell showed, as text: printed output, reprs, LaTeX, and a marker
    line for each picture (`<image/svg+xml>`, `<image/png>`)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        for mime, data in out.get("data", {}).items():
            if mime.startswith("image/"):
                parts.append(f"<{mime}>")
                parts.append(data if mime == "image/svg+xml" else "")
            elif mime in ("text/plain", "text/latex"):
                parts.append(data)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def tutorial_cells(tmp_path_factory):
    """The tutorial executed as the docs build executes it: jupytext, then a real kernel."""
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(TUTORIAL)
    workdir = tmp_path_factory.mktemp("tutorial")
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return [(c.source, _outputs(c)) for c in notebook.cells if c.cell_type == "code"]


def _shown(cells, source_piece: str) -> str:
    matching = [out for src, out in cells if source_piece in src]
    assert matching, f"no tutorial cell contains {source_piece!r}"
    return "\n".join(matching)


def test_tutorial_values_both_ways(tutorial_cells):
    """Each printed value of the tutorial is the analytic one."""
    printed = "\n".join(out for _, out in tutorial_cells)
    lines = [
        "PyTorch way, .backward():   tensor(12.)",
        "PyTorch way, autograd.grad: tensor(12.)",
        "JAX way, grad:              12.0",
        "after a second backward(): tensor(24.)",
        "after resetting x.grad:    tensor(12.)",
        "PyTorch way, .backward():   d/dx = tensor(8.)  d/dy = tensor(3.)",
        "PyTorch way, autograd.grad: d/dx = tensor(8.)  d/dy = tensor(3.)",
        "JAX way, grad(argnums=...): d/dx = 8.0  d/dy = 3.0",
        "PyTorch way: tensor(8.) tensor(3.) -> tensor([8., 3.])",
        "JAX way:     8.0 3.0 -> [8. 3.]",
        "one vector:  [8. 3.]",
        "rows from backward(gradient=e_i): [[4.0, 2.0], [1.0, -1.0]]",
        "jacobian(f, (x, y)):        (tensor([4., 1.]), tensor([ 2., -1.]))",
        "stacked on axis 0 (J^T!):   [[4.0, 1.0], [2.0, -1.0]]",
        "stacked on the last axis:   [[4.0, 2.0], [1.0, -1.0]]",
        "jacobian(..., matrix=True): [[4.0, 2.0], [1.0, -1.0]]",
        "row by row with grad: [[4.0, 2.0], [1.0, -1.0]]",
        "vmap(grad) over the basis: [[4.0, 2.0], [1.0, -1.0]]",
        "autograd.functional.hessian: [[2.0, 0.0], [0.0, 2.0]]",
        "hessian(..., matrix=True):   [[2.0, 0.0], [0.0, 2.0]]",
        "jacobian(jacobian(h)): [[2.0, 0.0], [0.0, 2.0]]",
        "jacfwd(jacrev(h)):     [[2.0, 0.0], [0.0, 2.0]]",
        "Hessian, the .backward way: [[2.0, 0.0], [0.0, 2.0]]",
        "gx.backward(): x.grad = tensor(2.)  y.grad = None",
    ]
    missing = [line for line in lines if line not in printed]
    assert not missing, f"the tutorial no longer prints {missing}"


def test_tutorial_walls_show_autodx_errors(tutorial_cells):
    """Each wall of the notebook shows the error autodx gives, with its fix in the message."""
    assert "FreedGraphError: Trying to backward through the graph a second time" in \
        _shown(tutorial_cells, "z.backward()  # z's graph was used up")
    assert "NonScalarOutputError: grad needs a function with one scalar output" in \
        _shown(tutorial_cells, "ad.grad(two_outputs")
    vector = _shown(tutorial_cells, "try:\n    z.backward()\nexcept")
    assert "NonScalarOutputError" in vector and "gradient=v" in vector
    nested = _shown(tutorial_cells, "argnums=1)(np.array([2.0, 1.0]))")
    assert "ArgnumsError" in nested and "same argnums at both levels" in nested
    assert "materialize_grads=True" in _shown(tutorial_cells, "does not depend on y")


def test_tutorial_explains_the_four_derivatives(tutorial_cells):
    """ad.explain shows the notebook's derivatives exactly, as text and as LaTeX."""
    shown = {
        "ad.explain(ad.grad(f1))(2.0)": ["6*x", "at x = 2: 12", r"= 6 x"],
        "ad.explain(f2, argnums=(0, 1), order=1)": ["(4*x, 3)", "(8, 3)", r"\left(4 x, 3\right)"],
        "ad.explain(f, argnums=(0, 1), order=1)": [
            "[[2*x, 2*y], [1, -1]]", "[[4, 2], [1, -1]]",
            r"\begin{matrix}2 x & 2 y\\1 & -1\end{matrix}"],
        "ad.explain(h, argnums=(0, 1), order=2)": [
            "[[2, 0], [0, 2]]", r"\begin{matrix}2 & 0\\0 & 2\end{matrix}"],
    }
    for source, pieces in shown.items():
        out = _shown(tutorial_cells, source)
        assert all(p in out for p in pieces), (source, pieces, out)
    wave = _shown(tutorial_cells, "print(ad.explain(wave, order=1)(1.0))")
    d1, d2 = np.cos(1) + 2 * np.sin(1), np.sin(1) + 4 * np.cos(1)   # (x^2 sin x)', '' at 1
    assert f"at x = 1: {d1:.8g}" in wave and f"at x = 1: {d2:.8g}" in wave, wave


def test_tutorial_pictures(tutorial_cells):
    """The graph pictures are SVG, the plots PNG: what the site shows."""
    tape = _shown(tutorial_cells, "ad.draw(z)")
    assert "<image/svg+xml>" in tape and "StackBackward" in tape and "<svg" in tape
    program = _shown(tutorial_cells, "ad.draw(wave, 1.0, derivative=True)")
    assert "<image/svg+xml>" in program and "sin" in program
    for plot in ("ad.plot(lambda x, y: 2 * x**2 + 3 * y", "ad.plot(wave, (-3, 3), order=2)"):
        assert "<image/png>" in _shown(tutorial_cells, plot), plot


# ----------------------------------------------------------------------------- the site

def test_site_builds_strict(tmp_path):
    """`mkdocs build --strict` passes (it runs in CI: a missing mkdocs is a failure, not a
    skip), and the pages hold what the tests above checked, rendered offline."""
    import mkdocs  # noqa: F401 - the docs extra is part of the test extra

    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
         "-d", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stdout + result.stderr
    tutorial = (site / "tutorial" / "index.html").read_text(encoding="utf-8")
    assert "tensor(12.)" in tutorial and "[[4.0, 2.0], [1.0, -1.0]]" in tutorial
    assert tutorial.count('src="data:image/svg+xml;base64') >= 2  # the two graph pictures
    assert tutorial.count('src="data:image/png;base64') >= 2      # the two plots
    assert "../javascripts/mathjax.js?notebook" in tutorial
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("autodx.grad", "autodx.jacobian", "autodx.vmap", "autodx.Tensor",
                 "autodx.explain.explain", "autodx.draw.draw", "autodx.plot.plot"):
        assert f'id="{name}"' in api, name
    assert "&gt;&gt;&gt;" not in api.replace('<span class="gp">&gt;&gt;&gt;', ""), \
        "a docstring example is not shown as code"
    assert (site / "mathjax" / "es5" / "tex-chtml.js").is_file()
    assert (site / "mathjax" / "es5" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "fonts.googleapis" not in html, page
        assert not re.search(r"https?://[^\"']*mathjax", html, re.I), page
    assert not (ROOT / ".cache").exists() or not any((ROOT / ".cache").rglob("*.json")), \
        "mkdocs-jupyter's cache would show stale values: keep cache: false"
