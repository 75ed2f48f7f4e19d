"""`ad.draw`: pictures of what autodx records and computes, as torchviz draws them, built in.

`ad.draw(t)` draws a Tensor's recorded backward graph (the tape): one box per operation, named
as its `grad_fn` prints (`MulBackward`), with its output's shape and dtype; the leaves (blue),
the values each node keeps for its backward rule (orange, dashed), and the root (green).
`ad.draw(f, *args)` draws the program `ad.jit(f)` stages for `args`; `derivative=True` draws
the program of its derivative beside it. Both return a `Drawing`, which keeps only the DOT text
(never a Tensor), so holding a picture keeps no graph alive.

A Tensor made without `requires_grad=True` (or under `ad.no_grad()`) is drawn as one box that
says it has no graph and why, rather than refused: torchviz draws such a tensor as a lone box
too, and in a notebook a picture that explains beats a traceback. After `backward()` the graph
is freed (as in PyTorch), and the boxes say so.

The graph is built with the `graphviz` package (the `draw` extra), which does the DOT quoting;
rendering to SVG/PNG/PDF needs the system's `dot` program. Without it, Jupyter shows the DOT
text and a one-line hint, and `.save("g.dot")` still works.
"""

from __future__ import annotations

import inspect
import os
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from .core import Tracer, dtype_of, shape_of
from .explain import argument_names, input_names
from .tensor import Tensor

NEEDS_PACKAGE = "ad.draw needs the graphviz package: pip install 'autodx[draw]'"
NEEDS_DOT = ("the Graphviz 'dot' program was not found: install it (apt install graphviz / "
             "brew install graphviz), or write the DOT text with .save('g.dot')")
MAX_NODES = 200

# torchviz's colours, so that a torchviz user reads the picture at once
_OP, _LEAF, _SAVED, _ROOT, _NOTE = "lightgrey", "lightblue", "orange", "darkolivegreen1", "white"
_FORMATS = ("svg", "png", "pdf")


def _graphviz():
    """The graphviz package, imported only when a picture is made (`import autodx` stays NumPy
    only)."""
    try:
        import graphviz
    except ImportError:
        raise ImportError(NEEDS_PACKAGE) from None
    return graphviz


# ----------------------------------------------------------------------------- Drawing

class Drawing:
    """A graph picture: its DOT text (`.dot`, also `str(d)`), rendered on demand.

    It holds text only, so a Drawing kept in a notebook cell keeps no tape alive."""

    __slots__ = ("dot", "title", "nodes")

    def __init__(self, dot: str, title: str, nodes: int):
        self.dot, self.title, self.nodes = dot, title, nodes

    def __str__(self) -> str:
        return self.dot

    def __repr__(self) -> str:
        return (f"<ad.Drawing of {self.title}: {self.nodes} nodes; .svg(), .save('g.svg'), "
                f"str() for the DOT text>")

    def _pipe(self, fmt: str) -> bytes:
        graphviz = _graphviz()
        try:
            return graphviz.Source(self.dot).pipe(format=fmt)
        except graphviz.ExecutableNotFound:
            raise RuntimeError(NEEDS_DOT) from None

    def svg(self) -> str:
        """The picture as SVG text (runs the system's `dot`)."""
        return self._pipe("svg").decode("utf-8")

    def save(self, path: str | os.PathLike) -> str:
        """Write the picture to `path`, in the format its suffix names (.svg, .png, .pdf, or
        .dot/.gv for the DOT text, which needs no `dot` program); returns the path."""
        suffix = Path(path).suffix.lower().lstrip(".")
        if suffix in ("dot", "gv"):
            Path(path).write_text(self.dot, encoding="utf-8")
        elif suffix in _FORMATS:
            Path(path).write_bytes(self._pipe(suffix))
        else:
            raise ValueError(f"Drawing.save(path): path must end in .svg, .png, .pdf or .dot, "
                             f"got {os.fspath(path)!r}; e.g. d.save('graph.svg').")
        return os.fspath(path)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter: the SVG where `dot` is installed, else the DOT text with the hint."""
        try:
            bundle = {"image/svg+xml": self.svg(), "text/plain": repr(self)}
        except RuntimeError as e:
            bundle = {"text/plain": f"{self.dot}\n// ad.draw: {e}"}
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle


# ----------------------------------------------------------------------------- entry point

def draw(obj, *args, derivative: bool = False, argnums=0, names: Mapping | None = None,
         show_saved: bool = True, max_nodes: int = MAX_NODES) -> Drawing:
    """Draw a Tensor's backward graph, or the program autodx stages for a function.

    `ad.draw(loss)`: the operations recorded behind `loss` (a Tensor, or a list of them).
    Leaves are labelled with the variable names they have where `draw` is called (or with
    `names={"w": w, ...}`, torchviz's `params`); `show_saved=False` hides the saved values.

    `ad.draw(f, x, y)`: the program `ad.jit(f).program(x, y)`; `derivative=True` adds the
    program of `ad.grad(f, argnums)` (`ad.jacobian` for a non-scalar output) beside it.

    At most `max_nodes` operations are drawn; the rest are collapsed into one box that says
    how many were left out.
    """
    _graphviz()  # the missing-extra error first, whatever the arguments
    _check_max_nodes(max_nodes)
    roots = _as_roots(obj)
    if roots is not None:
        if args or derivative:
            raise TypeError("ad.draw(t): a Tensor is drawn as it is; derivative= and further "
                            "arguments are for a function: ad.draw(f, x, derivative=True).")
        if names is None:
            frame = inspect.currentframe().f_back
            names = _caller_names(frame)
            del frame
        elif not isinstance(names, Mapping):
            raise TypeError(f"ad.draw(t, names=): names must map names to Tensors, got "
                            f"{_describe(names)}; e.g. names={{'w': w, 'b': b}}.")
        return _draw_tape(roots, names, show_saved, max_nodes)
    if not callable(obj):
        raise TypeError(f"ad.draw(obj): obj must be an ad.Tensor (to draw its backward graph) "
                        f"or a function and its arguments (to draw its staged program), got "
                        f"{_describe(obj)}. {_HINT}")
    return _draw_function(obj, args, derivative, argnums, max_nodes)


_HINT = ("E.g. ad.draw(y) for y = ad.tensor(2.0, requires_grad=True) ** 2, or "
         "ad.draw(f, 2.0, derivative=True).")


def _describe(obj) -> str:
    if isinstance(obj, (np.ndarray, np.generic)):
        return (f"a NumPy array of shape {np.shape(obj)}, which records no graph (make it with "
                f"ad.tensor(..., requires_grad=True) and compute with that)")
    return f"{obj!r:.60} (of type {type(obj).__name__})"


def _check_max_nodes(max_nodes) -> None:
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)) or (
            max_nodes < 1):
        raise ValueError(f"ad.draw(max_nodes=): max_nodes must be a positive int, got "
                         f"{max_nodes!r:.40}; e.g. max_nodes=500 to draw a bigger graph.")


def _as_roots(obj) -> list[Tensor] | None:
    """The Tensors to draw, or None where obj is not Tensors (a function, or a mistake)."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, Tracer):
        raise TypeError("ad.draw(t): t is a value traced by grad/jvp/vmap/jit, which has no "
                        "tape to draw. Draw the function instead: ad.draw(f, x), or draw a "
                        "Tensor outside the transformation.")
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(t, Tensor) for t in obj):
        return list(obj)
    return None


def _caller_names(frame) -> dict:
    """name -> Tensor for the caller's variables, so that a picture drawn in a notebook says
    `x` and `w` as torchviz does given `params=`. Names starting with `_` are skipped (IPython
    keeps old outputs as `_`, `_1`, ...).

    NOTE: a function's locals are read only where that costs nothing: before Python 3.13,
    reading `frame.f_locals` of a function caches a snapshot on its frame, which would keep
    every Tensor the function has since dropped alive until it returns. There (a function
    calling draw on 3.11/3.12) the names come from its module's globals; pass names=."""
    found: dict = {}
    if frame is None:
        return found
    function = bool(frame.f_code.co_flags & inspect.CO_OPTIMIZED)
    scopes = [frame.f_globals]
    if not function or sys.version_info >= (3, 13):  # a module's (a cell's) are a plain dict
        scopes.insert(0, frame.f_locals)
    for scope in scopes:
        for name, value in list(scope.items()):
            if isinstance(value, Tensor) and not name.startswith("_") and name not in found:
                found[name] = value
    return found


# ----------------------------------------------------------------------------- labels

def _type(value) -> str:
    return f"{tuple(shape_of(value))} {dtype_of(value)}"


def _number(value) -> str | None:
    """A value of one to four numbers as its values (a saved 2.0 says 2.0; a constant
    [1, 0] says so), else None: the shape and dtype say more than a wall of digits."""
    if isinstance(value, Tracer):
        return None
    array = np.asarray(value)
    if not 1 <= array.size <= 4 or array.dtype.kind not in "biufc":
        return None
    if array.ndim == 0:
        item = array.item()
        return f"{item:.6g}" if array.dtype.kind in "fc" else str(item)
    text = np.array2string(array, precision=4, separator=", ", suppress_small=True)
    return f"{text} {array.dtype}"


def _short(value, limit: int = 32) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _params(params: dict | None) -> str:
    """The parameters worth showing: not None/False/empty (a default, mostly)."""
    shown = []
    for key, value in (params or {}).items():
        if value is None or value is False or (isinstance(value, (tuple, dict)) and not value):
            continue
        shown.append(f"{key}={_index(value) if key == 'index' else _short(value)}")
    return ", ".join(shown)


def _index(index) -> str:
    """A getitem/scatter index as NumPy writes it (`[..., 0:2]`), not as its spec's repr."""
    if not isinstance(index, tuple):
        return _short(index)
    parts = []
    for item in index:
        fields = getattr(item, "_fields", ())
        if fields == ("start", "stop", "step"):
            a, b, c = ("" if v is None else str(v) for v in item)
            parts.append(f"{a}:{b}" + (f":{c}" if c else ""))
        elif fields == ("data", "shape"):
            parts.append(f"<int array {item.shape}>")
        elif item is Ellipsis:
            parts.append("...")
        else:
            parts.append(_short(item, 16))
    return f"[{', '.join(parts)}]"


def _label(*lines: str, width: int = 44) -> str:
    """Lines wrapped to a readable width; the graphviz package quotes the result."""
    out = []
    for line in lines:
        if line:
            out += textwrap.wrap(line, width, break_on_hyphens=False) or [line]
    return _graphviz().escape("\n".join(out))


def _digraph(title: str):
    g = _graphviz().Digraph(name="autodx")
    g.attr("graph", label=_label(title, width=90), labelloc="t", fontsize="12",
           fontname="Helvetica", ranksep="0.25", nodesep="0.2")
    g.attr("node", shape="box", style="filled,rounded", fillcolor=_OP, fontsize="10",
           fontname="Helvetica", height="0.2")
    g.attr("edge", arrowsize="0.6")
    return g


# ----------------------------------------------------------------------------- the tape

def _walk(roots: list) -> list:
    """Every node behind `roots`, each once, nearest the roots first (breadth first: the part
    kept under max_nodes is the part next to the output). Iterative: a long chain is fine."""
    order, seen = [], set()
    for node in roots:
        if node is not None and id(node) not in seen:
            seen.add(id(node))
            order.append(node)
    i = 0
    while i < len(order):
        for parent in order[i].parents:
            if parent is not None and id(parent) not in seen:
                seen.add(id(parent))
                order.append(parent)
        i += 1
    return order


def _reads(node) -> tuple[list, bool]:
    """Which inputs the node's rule reads, and whether it keeps its output: the engine's own
    rule (reverse.saved_values / saved_out), so the picture shows what autodx keeps."""
    prim, parents = node.prim, node.parents
    reads = prim.reads_inputs
    if callable(reads):
        reads = reads(tuple(p is not None for p in parents))
    if reads is True or reads is False:
        reads = [reads] * len(node.primals)
    keeps_out = False if prim.linear else getattr(prim, "reads_out", True)
    if callable(keeps_out):
        keeps_out = keeps_out(tuple(p is not None for p in parents))
    return list(reads), bool(keeps_out)


def _is_stand_in(value) -> bool:
    """A data-less stand-in (reverse.stand_in): a read-only array with all strides zero."""
    return (isinstance(value, np.ndarray) and value.size > 1 and not any(value.strides)
            and not value.flags.writeable)


class _Tape:
    """Builds the picture of one tape; dropped (with every node reference) once done."""

    def __init__(self, g, names: Mapping, show_saved: bool):
        self.g, self.show_saved = g, show_saved
        self.ids: dict[int, str] = {}  # id(node) -> dot id
        self.saved: dict[int, str] = {}  # id(saved value) -> dot id
        self.node_names: dict[int, str] = {}  # id(node) -> the name of its Tensor
        self.value_names: dict[int, str] = {}  # id(value) -> the name of the Tensor holding it
        self.tensors: dict[int, Tensor] = {}
        for name, t in names.items():
            if isinstance(t, Tensor) and t._node is not None:
                self.node_names.setdefault(id(t._node), str(name))
                self.value_names.setdefault(id(t._value), str(name))
                self.tensors.setdefault(id(t._node), t)
        self.count = 0

    def node(self, node, is_root: bool) -> None:
        dot_id = self.ids[id(node)]
        name = self.node_names.get(id(node), "")
        if node.prim is None:
            self._leaf(dot_id, node, name, is_root)
            return
        freed = node.primals is None
        shape = ("graph freed by backward(): draw before it, or call "
                 "backward(retain_graph=True)") if freed else _type(node.out)
        retain = any(getattr(h, "retains_grad", False) for h in node.hooks or ())
        grad = self._grad_line(self.tensors.get(id(node))) if retain else ""
        title = f"{node.name()} ({name})" if name and not is_root else node.name()
        self.g.node(dot_id, _label(title, _params(node.params), shape,
                                   "retain_grad()" if retain else "", grad))
        self.count += 1
        if self.show_saved and not freed:
            self._saved(dot_id, node)

    def _leaf(self, dot_id: str, node, name: str, is_root: bool) -> None:
        t = node.target() if node.target is not None else None
        if t is None:
            lines = [name or "leaf", "its Tensor was freed (AccumulateGrad)"]
        else:
            lines = [name or "leaf", _type(t._value), "requires_grad", self._grad_line(t)]
        self.g.node(dot_id, _label(*lines), fillcolor=_ROOT if is_root else _LEAF,
                    penwidth="2" if is_root else "1")
        self.count += 1

    @staticmethod
    def _grad_line(t) -> str:
        if t is None:
            return ""
        return "grad: None" if t._grad is None else f"grad: set {_type(t._grad._value)}"

    def _saved(self, dot_id: str, node) -> None:
        reads, keeps_out = _reads(node)
        # A value from the graph is drawn once however many nodes keep it (an op's result is
        # often its consumer's saved input too); a constant once per node that keeps it, so
        # that `y = y * 1.01` in a loop does not tie every node to one box.
        values = [(v, f"input {i}", id(v) if parent is not None else (id(node), i))
                  for i, (v, r, parent) in enumerate(zip(node.primals, reads, node.parents)) if r]
        if keeps_out:
            values.append((node.out, "result", id(node.out)))
        for value, role, key in values:
            if value is None or _is_stand_in(value):
                continue
            sid = self.saved.get(key)
            if sid is None:
                sid = self.saved[key] = f"s{len(self.saved)}"
                name = self.value_names.get(id(value), "")
                what = _number(value) or _type(value)
                self.g.node(sid, _label(f"saved {name}" if name else "saved", what),
                            fillcolor=_SAVED,
                            style="filled,dashed", shape="box")
                self.count += 1
            self.g.edge(sid, dot_id, style="dashed", dir="none", color="darkorange",
                        tooltip=f"{role} of {node.name()}")


def _draw_tape(roots: list[Tensor], names: Mapping, show_saved: bool,
               max_nodes: int) -> Drawing:
    nodes = [t._node for t in roots]
    title = _tape_title(roots)
    g = _digraph(title)
    order = _walk(nodes)
    drawn = order[:max_nodes]
    tape = _Tape(g, names, show_saved)
    for i, node in enumerate(drawn):
        tape.ids[id(node)] = f"n{i}"
    root_ids = {id(n) for n in nodes if n is not None}
    for node in drawn:
        tape.node(node, id(node) in root_ids)
    more = len(order) - len(drawn)
    if more:
        g.node("more", _label(f"… {more} more nodes not drawn",
                              f"(max_nodes={max_nodes}; pass max_nodes= to draw more)"),
               fillcolor=_NOTE, style="dashed")
        tape.count += 1
    _tape_edges(g, drawn, tape.ids)
    for k, (t, node) in enumerate(zip(roots, nodes)):
        tape.count += _root(g, k, t, node, tape)
    return Drawing(g.source, title, tape.count)


def _tape_edges(g, drawn: list, ids: dict) -> None:
    """input -> consumer (the forward direction, as torchviz); cut inputs come from `more`."""
    cut = set()
    for node in drawn:
        for parent in node.parents:
            if parent is None:
                continue
            src = ids.get(id(parent))
            if src is not None:
                g.edge(src, ids[id(node)])
            elif ids[id(node)] not in cut:
                cut.add(ids[id(node)])
                g.edge("more", ids[id(node)], style="dashed")


def _root(g, k: int, t: Tensor, node, tape: _Tape) -> int:
    """The output Tensor, in green, below its grad_fn; returns how many boxes it added."""
    if node is not None and node.prim is None:
        return 0  # a leaf drawn as the root: its own box, already green
    name = _name_of(t, tape)
    if node is None:
        g.node(f"r{k}", _label(name or "tensor", _type(t._value),
                               "no graph: it was made without requires_grad=True (or "
                               "computed under ad.no_grad()), so backward() has nothing to "
                               "go through"), fillcolor=_ROOT, penwidth="2")
        return 1
    grad = _Tape._grad_line(t) if t.retains_grad else ""
    g.node(f"r{k}", _label(name or "output", _type(t._value), grad), fillcolor=_ROOT,
           penwidth="2")
    g.edge(tape.ids[id(node)], f"r{k}")
    return 1


def _name_of(t: Tensor, tape: _Tape) -> str:
    return tape.node_names.get(id(t._node), "") if t._node is not None else ""


def _tape_title(roots: list[Tensor]) -> str:
    if len(roots) == 1:
        fn = roots[0].grad_fn
        if fn is not None:
            return f"backward graph of a Tensor (grad_fn={fn.name()})"
        return "a leaf Tensor" if roots[0].requires_grad else "a Tensor with no graph"
    return f"backward graph of {len(roots)} Tensors"


# ----------------------------------------------------------------------------- programs

def _draw_function(f: Callable, args: tuple, derivative: bool, argnums, max_nodes: int):
    from .api import grad, jacobian
    from .jit import Jitted, jit
    from .tree import tree_map

    name = getattr(f, "__name__", None) or type(f).__name__
    name = "f" if name == "<lambda>" else name
    if not args and _needs_args(f):
        raise TypeError(f"ad.draw({name}): give the arguments to stage it with, e.g. "
                        f"ad.draw({name}, 2.0): the program depends on their shapes and "
                        f"dtypes.")
    # the program depends only on the arguments' shapes and dtypes: a Tensor stands for its value
    args = tree_map(lambda a: a._value if isinstance(a, Tensor) else a, args)
    staged = f if isinstance(f, Jitted) else jit(f)
    program = staged.program(*args)
    arg_names = input_names(f, args)
    arg_list = ", ".join(argument_names(f, args))
    call = f"{name}({arg_list})"
    title = f"the staged program of {call}"
    g = _digraph(title if not derivative else f"{call} and its derivative")
    count = _program(g, "p", program, f"program of {call}", arg_names, max_nodes)
    if derivative:
        which = grad if _scalar_output(program) else jacobian
        d_program = jit(which(f, argnums=argnums)).program(*args)
        d_call = f"{which.__name__}({name}, argnums={argnums!r})({arg_list})"
        count += _program(g, "d", d_program, f"derivative: {d_call}", arg_names, max_nodes)
        title = f"{call} and {d_call}"
    return Drawing(g.source, title, count)


def _scalar_output(program) -> bool:
    """One output of one element (a Python-scalar Lit counts): what `ad.grad` takes."""
    outs = program.outputs
    return len(outs) == 1 and int(np.prod(getattr(outs[0], "shape", ()))) == 1


def _needs_args(f) -> bool:
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return False
    return any(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in sig.parameters.values())


def _program(g, prefix: str, program, title: str, arg_names: list, max_nodes: int) -> int:
    """One program as a cluster (a framed subgraph with a title); returns its box count."""
    with g.subgraph(name=f"cluster_{prefix}") as c:
        c.attr(label=_label(title, width=90), style="rounded", color="grey50", fontsize="11",
               fontname="Helvetica")
        where: dict = {}  # Var -> dot id
        for i, v in enumerate(program.inputs):
            label = arg_names[i] if i < len(arg_names) else f"closure {i - len(arg_names)}"
            where[v] = f"{prefix}i{i}"
            c.node(where[v], _label(f"{label} = {v!r}", _type_of_var(v), "input"),
                   fillcolor=_LEAF)
        for i, (v, value) in enumerate(program.consts.items()):
            where[v] = f"{prefix}c{i}"
            c.node(where[v], _label(f"{v!r} = constant", _number(value) or _type(value)),
                   fillcolor="white")
        eqns = program.eqns[:max_nodes]
        guarded = {gd.var for gd in program.guards}
        for i, eqn in enumerate(eqns):
            where[eqn.out] = f"{prefix}e{i}"
        more = len(program.eqns) - len(eqns)
        if more:
            c.node(f"{prefix}more", _label(f"… {more} more equations not drawn",
                                           f"(max_nodes={max_nodes})"),
                   fillcolor=_NOTE, style="dashed")
        for eqn in eqns:
            _equation(c, eqn, where, prefix, eqn.out in guarded)
        for i, out in enumerate(program.outputs):
            _output(c, prefix, i, out, where)
    return (len(program.inputs) + len(program.consts) + len(eqns) + bool(more)
            + len(program.outputs))


def _type_of_var(v) -> str:
    return f"{v.shape} {v.dtype}" + (" (Python scalar)" if v.weak else "")


def _source(atom, where: dict, prefix: str) -> str | None:
    """The dot id an equation input comes from (None for an inline Python scalar)."""
    if not hasattr(atom, "shape"):  # a Lit
        return None
    return where.get(atom, f"{prefix}more")


def _equation(c, eqn, where: dict, prefix: str, guarded: bool) -> None:
    args = [repr(a) if hasattr(a, "shape") else _short(a.value) for a in eqn.inputs]
    params = _params(eqn.params)
    call = f"{eqn.out!r} = {eqn.prim.name}({', '.join(args + ([params] if params else []))})"
    note = "guarded: Python branched on it" if guarded else ""
    c.node(where[eqn.out], _label(call, _type_of_var(eqn.out), note))
    done = set()
    for atom in eqn.inputs:
        src = _source(atom, where, prefix)
        if src is not None and (src, atom) not in done:
            done.add((src, atom))
            c.edge(src, where[eqn.out])


def _output(c, prefix: str, i: int, out, where: dict) -> None:
    oid = f"{prefix}o{i}"
    if not hasattr(out, "shape"):  # a Lit: the function returns a constant
        c.node(oid, _label(f"output {i} = {_short(out.value)}", "a constant"), fillcolor=_ROOT)
        return
    c.node(oid, _label(f"output {i} = {out!r}", _type_of_var(out)), fillcolor=_ROOT,
           penwidth="2")
    c.edge(where.get(out, f"{prefix}more"), oid)
