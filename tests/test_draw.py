"""`ad.draw`: pictures of the tape and of staged programs (issue 9, point 2).

The SVG tests run the system's `dot`; each picture is small, so the file runs in seconds."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autodx as ad
from gc_checks import cyclic_gc_off

# NOTE: through ad.draw, not `import autodx.draw`: importing the submodule before the first
# `ad.draw` binds the name autodx.draw to the module instead of the function
DRAW = sys.modules[ad.draw.__module__]
NEEDS_DOT, NEEDS_PACKAGE, Drawing = DRAW.NEEDS_DOT, DRAW.NEEDS_PACKAGE, DRAW.Drawing
anp = ad.numpy
SVG = "{http://www.w3.org/2000/svg}"


def svg_groups(svg: str, kind: str) -> list:
    """The `<g class="node">` (or "cluster") elements of an SVG picture."""
    return [g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == kind]


def svg_text(svg: str) -> str:
    return " ".join(t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text"))


def fifty_ops():
    """50 recorded operations on two leaves: x * w, 24 x (sin, * w), then a sum."""
    x = ad.tensor(np.linspace(0.1, 0.3, 3), requires_grad=True)
    w = ad.tensor(np.full(3, 0.9), requires_grad=True)
    h = x * w
    for _ in range(24):
        h = anp.sin(h) * w
    return x, w, h.sum()


# ----------------------------------------------------------------------------- the tape

def test_fifty_op_graph_renders_one_box_per_operation_leaf_and_root():
    x, w, loss = fifty_ops()
    d = ad.draw(loss, show_saved=False)
    svg = d.svg()
    assert len(svg_groups(svg, "node")) == 50 + 2 + 1 == d.nodes  # ops, leaves x and w, output
    text = svg_text(svg)
    assert text.count("SinBackward") == 24 and text.count("MulBackward") == 25
    assert text.count("SumBackward") == 2  # the root, and the title's grad_fn=SumBackward
    assert "orange" not in d.dot


def test_saved_values_are_drawn_once_each_in_their_own_style():
    x, w, loss = fifty_ops()
    d = ad.draw(loss, names={"x": x, "w": w})
    assert len(svg_groups(d.svg(), "node")) == d.nodes > 53
    # x * w keeps both leaves for its rule; w is drawn once though 25 nodes keep it
    assert d.dot.count('label="saved x') == 1 and d.dot.count('label="saved w') == 1
    assert "fillcolor=orange" in d.dot and 'style="filled,dashed"' in d.dot
    assert d.dot.count("color=darkorange dir=none style=dashed") >= 25


def test_a_linear_operation_saves_nothing_and_the_leaves_say_what_they_are():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    w = ad.tensor([3.0, 4.0], requires_grad=True)
    y = (x + w).sum()
    names = {"x": x, "w": w, "y": y}
    d = ad.draw(y, names=names)
    assert "orange" not in d.dot  # add and sum read no values: their rules need only shapes
    assert 'label="x\n(2,) float64\nrequires_grad\ngrad: None"' in d.dot
    assert 'label="w\n(2,) float64\nrequires_grad\ngrad: None"' in d.dot
    assert 'label="y\n() float64" fillcolor=darkolivegreen1 penwidth=2' in d.dot  # the root
    y.backward(retain_graph=True)
    assert "grad: set (2,) float64" in ad.draw(y, names=names).dot


def test_a_value_kept_by_mul_shows_the_constant_it_multiplies_by():
    x = ad.tensor(2.0, requires_grad=True)
    y = x * 3.5
    dot = ad.draw(y, names={"x": x}).dot
    assert 'label="saved\n3.5"' in dot  # the rule of x * c reads c (and not x)
    assert 'label="x\n' in dot and "saved x" not in dot


def test_shared_subgraphs_are_drawn_once():
    x = ad.tensor(1.0, requires_grad=True)
    s = anp.sin(x)
    y = s * s + s
    d = ad.draw(y, show_saved=False)
    assert d.dot.count("SinBackward") == 1
    sin_id = next(line.split()[0] for line in d.dot.splitlines() if "SinBackward" in line)
    assert d.dot.count(f"{sin_id} -> ") == 3  # s feeds mul twice and add once
    assert len(svg_groups(d.svg(), "node")) == 5  # add, mul, sin, leaf x, the root


CELL = """
a = ad.tensor([1.0, 2.0], requires_grad=True)
hidden = anp.exp(a)
hidden.retain_grad()
out = hidden.sum()
picture = ad.draw(out)
"""


def test_names_come_from_the_notebook_cell_or_from_names():
    cell = {"ad": ad, "anp": anp}
    exec(compile(CELL, "<cell>", "exec"), cell)  # module level, as a notebook cell runs
    dot = cell["picture"].dot
    assert 'label="a\n' in dot and "ExpBackward (hidden)" in dot and "retain_grad()" in dot
    a, out = cell["a"], cell["out"]
    dot = ad.draw(out, names={"weights": a}).dot
    assert 'label="weights\n' in dot and 'label="a\n' not in dot
    assert 'label="leaf\n' in ad.draw(out, names={}).dot
    with pytest.raises(TypeError, match=r"names=\): names must map names to Tensors"):
        ad.draw(out, names=[a])


def test_a_big_graph_is_collapsed_and_says_how_much_was_left_out():
    x = ad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(300):
        y = y * 1.001
    d = ad.draw(y, show_saved=False, max_nodes=20)
    assert "… 281 more nodes not drawn" in d.dot  # 300 operations and the leaf, 20 drawn
    assert len(svg_groups(d.svg(), "node")) == 20 + 1 + 1
    assert ad.draw(y).nodes < 700  # the default bound keeps it drawable


def test_a_tensor_without_a_graph_is_one_box_that_says_why():
    t = ad.tensor([1.0, 2.0])
    d = ad.draw(t)
    assert len(svg_groups(d.svg(), "node")) == 1
    assert "no graph: it was made without" in d.dot and "requires_grad=True" in d.dot
    leaf = ad.tensor(1.0, requires_grad=True)
    d = ad.draw(leaf)
    assert d.nodes == 1 and "leaf" in d.title and "fillcolor=darkolivegreen1" in d.dot


def test_after_backward_the_graph_says_it_was_freed():
    x = ad.tensor(2.0, requires_grad=True)
    y = anp.sin(x) * x
    y.backward()
    assert "graph freed by backward()" in ad.draw(y).dot


def test_several_roots_and_a_second_order_graph():
    x = ad.tensor(0.5, requires_grad=True)
    (g,) = ad.autograd.grad(anp.sin(x) ** 2, x, create_graph=True)
    d = ad.draw([g, x * 2.0], show_saved=False)
    assert "CosBackward" in d.dot and d.dot.count("darkolivegreen1") == 2
    assert len(svg_groups(d.svg(), "node")) == d.nodes


# ----------------------------------------------------------------------------- programs

def test_a_staged_program_is_one_cluster_with_every_equation():
    f = lambda x: anp.sum(anp.tanh(x) ** 2)  # noqa: E731
    x = np.linspace(-1, 1, 4)
    program = ad.jit(f).program(x)
    d = ad.draw(f, x)
    svg = d.svg()
    assert len(svg_groups(svg, "cluster")) == 1
    expected = len(program.inputs) + len(program.consts) + len(program.eqns) + 1
    assert len(svg_groups(svg, "node")) == expected == d.nodes
    text = svg_text(svg)
    assert "tanh(" in text and "sum(" in text and "axis=(0,)" in text and "output 0" in text
    assert "x = " in text and "(4,) float64" in text


def test_derivative_true_adds_the_gradient_program_beside_it():
    f = lambda x, y: anp.sum(x * anp.sin(y))  # noqa: E731
    args = (np.ones(3), np.linspace(0, 1, 3))
    d = ad.draw(f, *args, derivative=True, argnums=1)
    svg = d.svg()
    assert len(svg_groups(svg, "cluster")) == 2
    text = svg_text(svg)
    assert "derivative: grad(f, argnums=1)(x, y)" in text and "cos(" in text
    d_program = ad.jit(ad.grad(f, argnums=1)).program(*args)
    primal = ad.jit(f).program(*args)
    count = sum(len(p.inputs) + len(p.consts) + len(p.eqns) + len(p.outputs)
                for p in (primal, d_program))
    assert len(svg_groups(svg, "node")) == count


def test_a_vector_output_gets_its_jacobian_and_constants_and_pytrees_are_labelled():
    C = np.arange(6.0).reshape(2, 3)

    def f(x, p):
        return anp.stack([anp.sum(C @ x) * p["a"], p["b"][0]])

    d = ad.draw(f, np.ones(3), {"a": 1.0, "b": np.ones(2)}, derivative=True, argnums=(0, 1))
    assert "jacobian(f, argnums=(0, 1))" in d.title
    assert "constant\n(2, 3) float64" in d.dot
    assert "p['a'] = v" in d.dot and "p['b'] = v" in d.dot
    assert "index=[0:2, 0:3]" in d.dot  # an index as NumPy writes it
    assert len(svg_groups(d.svg(), "cluster")) == 2


def test_a_tensor_argument_stands_for_its_value():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    d = ad.draw(lambda v: anp.sin(v) * 2, x, derivative=True)
    assert "v = v" in d.dot and "(2,) float64" in d.dot
    assert "jacobian(f, argnums=0)(v)" in d.title


def test_python_branches_are_marked_as_guards():
    def f(x):
        return x * 2 if anp.sum(x) > 0 else -x

    assert "guarded: Python branched on it" in ad.draw(f, np.ones(2)).dot


# ----------------------------------------------------------------------------- Drawing

def test_save_writes_real_files_by_suffix(tmp_path):
    x, w, loss = fifty_ops()
    d = ad.draw(loss, show_saved=False)
    assert d.save(tmp_path / "g.png") == str(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    d.save(str(tmp_path / "g.pdf"))
    assert (tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"
    d.save(tmp_path / "g.svg")
    assert len(svg_groups((tmp_path / "g.svg").read_text(), "node")) == d.nodes
    d.save(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == d.dot == str(d)
    with pytest.raises(ValueError, match=r"path must end in .svg, .png, .pdf or .dot.*g\.jpg"):
        d.save(tmp_path / "g.jpg")


def test_jupyter_gets_svg_and_include_exclude_are_honoured():
    d = ad.draw(ad.tensor(1.0, requires_grad=True) * 2.0)
    bundle = d._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/plain"}
    assert svg_groups(bundle["image/svg+xml"], "node")
    assert set(d._repr_mimebundle_(include={"text/plain"})) == {"text/plain"}
    assert set(d._repr_mimebundle_(exclude={"text/plain"})) == {"image/svg+xml"}
    assert repr(d).startswith("<ad.Drawing of backward graph")


def test_without_the_dot_program_jupyter_shows_the_dot_text_and_one_line_hint(
        monkeypatch, tmp_path):
    d = ad.draw(ad.tensor(1.0, requires_grad=True) * 2.0)
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder with no `dot` in it
    bundle = d._repr_mimebundle_()
    assert set(bundle) == {"text/plain"}
    text = bundle["text/plain"]
    assert text.startswith(d.dot)
    hint = text[len(d.dot):].strip()
    assert "\n" not in hint and "apt install graphviz" in hint and ".save('g.dot')" in hint
    for call in (d.svg, lambda: d.save(tmp_path / "g.svg")):
        with pytest.raises(RuntimeError) as e:
            call()
        assert str(e.value) == NEEDS_DOT and "\n" not in str(e.value)
        assert "brew install graphviz" in str(e.value)
    d.save(tmp_path / "g.dot")  # needs no `dot`
    assert (tmp_path / "g.dot").read_text() == d.dot


def test_without_the_graphviz_package_a_one_line_import_error(monkeypatch):
    x = ad.tensor(1.0, requires_grad=True)
    d = ad.draw(x * 2.0)
    monkeypatch.setitem(sys.modules, "graphviz", None)
    for call in (lambda: ad.draw(x * 2.0), lambda: ad.draw(lambda v: v * 2, 1.0), d.svg):
        with pytest.raises(ImportError) as e:
            call()
        assert str(e.value) == NEEDS_PACKAGE == (
            "ad.draw needs the graphviz package: pip install 'autodx[draw]'")


def test_import_autodx_does_not_import_graphviz():
    code = ("import autodx, sys; print('graphviz' in sys.modules, callable(autodx.draw), "
            "'graphviz' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "True", "False"]  # looking ad.draw up imports nothing


# ----------------------------------------------------------------------------- misuse

def test_bad_inputs_name_the_argument_and_say_what_to_do():
    with pytest.raises(TypeError, match=r"ad.draw\(obj\).*NumPy array of shape \(3,\).*"
                                        r"requires_grad=True"):
        ad.draw(np.ones(3))
    with pytest.raises(TypeError, match=r"ad.draw\(obj\): obj must be an ad.Tensor .* got 3 "):
        ad.draw(3)
    y = ad.tensor(1.0, requires_grad=True) * 2
    with pytest.raises(TypeError, match=r"derivative= and further arguments are for a function"):
        ad.draw(y, 1.0)
    with pytest.raises(TypeError, match=r"traced by grad.*ad.draw\(f, x\)"):
        ad.grad(lambda v: (ad.draw(v), v)[1])(1.0)
    with pytest.raises(ValueError, match=r"max_nodes must be a positive int, got 0"):
        ad.draw(y, max_nodes=0)
    with pytest.raises(TypeError, match=r"ad.draw\(f\): give the arguments.*ad.draw\(f, 2.0\)"):
        ad.draw(lambda x: x * 2)


def test_a_drawing_keeps_text_only_so_the_tape_is_freed():
    with cyclic_gc_off() as cycles:
        x = ad.tensor(np.ones(3), requires_grad=True)
        y = (anp.sin(x) * x).sum()
        d = ad.draw(y)
        refs = [weakref.ref(x), weakref.ref(y), weakref.ref(y.grad_fn)]
        del x, y
    assert not cycles  # drawing made no reference cycles of autodx objects
    gc.collect()
    assert all(r() is None for r in refs)
    assert isinstance(d, Drawing)
    assert all(isinstance(getattr(d, s), (str, int)) for s in Drawing.__slots__)
