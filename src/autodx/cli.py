"""The `autodx` command: quick answers without writing Python, and the notebook's demo.

    autodx grad "3*x**2" --at x=2                        12
    autodx grad "2*x**2 + 3*y" --at x=2,y=1.5            (8, 3)
    autodx jacobian "[x**2 + y**2, x - y]" --at x=2,y=1  [[4, 2], [1, -1]]  (rows = outputs)
    autodx hessian "x**2 + y**2" --at x=2,y=1            [[2, 0], [0, 2]]
    autodx value "sin(pi/2) + x" --at x=1                2
    autodx explain "3*x**2"                              6*x   (--at x=2 adds the value, 12)
    autodx plot "sin(x)*x**2" --range -3:3 --order 2 -o f.png
    autodx demo

Expressions are `autodx.expression`'s language (Python arithmetic over the variables and the
`ad.numpy` functions, checked against a whitelist, never `eval`). `--json` prints one JSON
object (command, expression, variables, at, and value or formula). Numbers print as `12`, not
`12.0`, and otherwise at full (repr) precision. A mistake (a refused expression, a bad `--at`, a
missing value, a missing extra) is one message on stderr and exit status 2, never a traceback.

`autodx demo` recomputes every cell of the notebook our users start from (derivative,
partials, gradient, Jacobian, Hessian), the PyTorch way and the JAX way, and finishes the cells
the notebook left unfinished. Each value is printed beside its analytic value, and beside
PyTorch's and JAX's when those are importable; any disagreement makes the command exit with
status 1."""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import math
import sys
import warnings
from collections.abc import Callable, Iterator

import numpy as np

import autodx as ad
from autodx.explain import format_value, plain_value
from autodx.expression import ExpressionError, check_variable_name, namespace, parse

anp = ad.numpy
F = ad.autograd.functional


# ----------------------------------------------------------------------------- the notebook's f

def f1(x):
    return 3 * x**2


def f2(x, y):
    return 2 * x**2 + 3 * y


def f_jac(x, y):
    return anp.stack([x**2 + y**2, x - y])


def f_hess(x, y):
    return x**2 + y**2


ANALYTIC = {
    "derivative": np.array(12.0),
    "partials": np.array([8.0, 3.0]),
    "jacobian": np.array([[4.0, 2.0], [1.0, -1.0]]),
    "hessian": np.array([[2.0, 0.0], [0.0, 2.0]]),
}


def _leaves(*values):
    return [ad.tensor(v, requires_grad=True) for v in values]


def _matrix(rows) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in rows])


# ----------------------------------------------------------------------------- autodx routes

def autodx_routes() -> dict[str, list[tuple[str, Callable[[], object]]]]:
    """Every way the notebook (and its unfinished cells) computes each quantity."""

    def backward_derivative():
        (x,) = _leaves(2.0)
        f1(x).backward()
        return x.grad

    def autograd_derivative():
        (x,) = _leaves(2.0)
        return ad.autograd.grad(f1(x), x)[0]

    def backward_partials():
        x, y = _leaves(2.0, 1.5)
        f2(x, y).backward()
        return ad.tensor([x.grad, y.grad])

    def autograd_partials():
        x, y = _leaves(2.0, 1.5)
        return ad.tensor(ad.autograd.grad(f2(x, y), (x, y)))

    def functional_jacobian():
        x, y = _leaves(2.0, 1.0)
        jx, jy = F.jacobian(f_jac, (x, y))
        return anp.stack([jx, jy], axis=-1)  # columns are inputs: stack on the last axis

    def jacobian_by_vjps():
        # one vector-Jacobian product per output basis vector, in a Python loop
        _, pullback = ad.vjp(f_jac, 2.0, 1.0)
        return np.array([pullback(e) for e in np.eye(2)])

    def jacobian_by_vmap_and_grad():
        # the notebook's unfinished cell: row i is the gradient of <e_i, f>; vmap computes
        # every row in one batched pass over the basis vectors e_i
        def row(e):
            return anp.stack(ad.grad(lambda x, y: anp.sum(e * f_jac(x, y)), argnums=both)(
                2.0, 1.0))
        return ad.vmap(row)(np.eye(2))

    def backward_twice():
        # "the Hessian the .backward way": differentiate the gradient again
        x, y = _leaves(2.0, 1.0)
        gx, gy = ad.autograd.grad(f_hess(x, y), (x, y), create_graph=True)
        return _matrix(ad.autograd.grad(g, (x, y), retain_graph=True, materialize_grads=True)
                       for g in (gx, gy))

    def functional_hessian():
        x, y = _leaves(2.0, 1.0)
        return _matrix(F.hessian(f_hess, (x, y)))

    both = (0, 1)
    return {
        "derivative": [
            ("torch face: x.backward(); x.grad", backward_derivative),
            ("torch face: ad.autograd.grad(f1(x), x)", autograd_derivative),
            ("JAX face: ad.grad(f1)(2.0)", lambda: ad.grad(f1)(2.0)),
        ],
        "partials": [
            ("torch face: backward(); [x.grad, y.grad]", backward_partials),
            ("torch face: ad.autograd.grad(f2(x, y), (x, y))", autograd_partials),
            ("JAX face: ad.grad(f2, argnums=(0, 1))(2.0, 1.5)",
             lambda: np.array(ad.grad(f2, argnums=both)(2.0, 1.5))),
        ],
        "jacobian": [
            ("JAX face: ad.jacobian(f, argnums=(0, 1), matrix=True)",
             lambda: ad.jacobian(f_jac, argnums=both, matrix=True)(2.0, 1.0)),
            ("JAX face: ad.jacfwd(f, argnums=(0, 1), matrix=True)",
             lambda: ad.jacfwd(f_jac, argnums=both, matrix=True)(2.0, 1.0)),
            ("vmap and grad (the notebook's unfinished cell): ad.vmap(row)(np.eye(2))",
             jacobian_by_vmap_and_grad),
            ("one VJP per basis vector, in a loop", jacobian_by_vjps),
            ("torch face: F.jacobian(f, (x, y)), stacked on dim -1", functional_jacobian),
        ],
        "hessian": [
            ("JAX face: ad.hessian(f, argnums=(0, 1), matrix=True)",
             lambda: ad.hessian(f_hess, argnums=both, matrix=True)(2.0, 1.0)),
            ("JAX face: ad.jacobian(ad.jacobian(f, argnums=(0, 1)), argnums=(0, 1))",
             lambda: _matrix(ad.jacobian(ad.jacobian(f_hess, argnums=both),
                                         argnums=both)(2.0, 1.0))),
            ("JAX face: ad.jacfwd(ad.jacrev(f, argnums=(0, 1)), argnums=(0, 1))",
             lambda: _matrix(ad.jacfwd(ad.jacrev(f_hess, argnums=both),
                                       argnums=both)(2.0, 1.0))),
            ("torch face: autograd.grad twice (create_graph=True)", backward_twice),
            ("torch face: F.hessian(f, (x, y))", functional_hessian),
        ],
    }


# ----------------------------------------------------------------------------- references

def torch_reference() -> dict[str, np.ndarray] | None:
    try:
        import torch
    except ImportError:
        return None
    t = lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)
    fj = lambda x, y: torch.stack([x**2 + y**2, x - y])
    x, y = t(2.0), t(1.5)
    partials = torch.autograd.grad(f2(x, y), (x, y))
    jx, jy = torch.autograd.functional.jacobian(fj, (t(2.0), t(1.0)))
    hess = torch.autograd.functional.hessian(f_hess, (t(2.0), t(1.0)))
    return {
        "derivative": torch.autograd.grad(f1(x), x)[0].detach().numpy(),
        "partials": torch.stack(partials).detach().numpy(),
        "jacobian": torch.stack([jx, jy], dim=-1).numpy(),
        "hessian": torch.stack([torch.stack(row) for row in hess]).numpy(),
    }


def jax_reference() -> dict[str, np.ndarray] | None:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    both = (0, 1)
    fj = lambda x, y: jnp.stack([x**2 + y**2, x - y])
    return {
        "derivative": np.asarray(jax.grad(f1)(2.0)),
        "partials": np.asarray(jax.grad(f2, argnums=both)(2.0, 1.5)),
        "jacobian": np.stack(jax.jacobian(fj, argnums=both)(2.0, 1.0), axis=-1),
        "hessian": np.asarray(jax.hessian(f_hess, argnums=both)(2.0, 1.0)),
    }


# ----------------------------------------------------------------------------- the demo

TITLES = {
    "derivative": "Derivative of 3x^2 at x = 2",
    "partials": "Partial derivatives (the gradient) of 2x^2 + 3y at (2, 1.5)",
    "jacobian": "Jacobian of [x^2 + y^2, x - y] at (2, 1): rows = outputs, columns = inputs",
    "hessian": "Hessian of x^2 + y^2 at (2, 1)",
}


def _show(value) -> str:
    array = np.asarray(value.detach().numpy() if isinstance(value, ad.Tensor) else value,
                       dtype=float)
    return str((array + 0.0).tolist())  # + 0.0 turns -0.0 into 0.0


def _agrees(value, expected) -> bool:
    value = value.detach().numpy() if isinstance(value, ad.Tensor) else value
    return np.shape(value) == np.shape(expected) and np.allclose(value, expected, rtol=1e-12,
                                                                 atol=1e-12)


def demo(out=sys.stdout) -> int:
    refs = {"PyTorch": torch_reference(), "JAX": jax_reference()}
    failures = 0
    print("autodx demo: the notebook, both ways, on one engine\n", file=out)
    for quantity, routes in autodx_routes().items():
        expected = ANALYTIC[quantity]
        print(f"{TITLES[quantity]}\n  analytic: {_show(expected)}", file=out)
        for name, ref in refs.items():
            if ref is None:
                print(f"  {name}: not installed (pip install -e '.[test]' to compare)", file=out)
            else:
                ok = _agrees(ref[quantity], expected)
                failures += not ok
                print(f"  {name}: {_show(ref[quantity])}  {'agrees' if ok else 'DISAGREES'}",
                      file=out)
        for label, route in routes:
            value = route()
            ok = _agrees(value, expected)
            failures += not ok
            print(f"  {'ok ' if ok else 'BAD'} {label}: {_show(value)}", file=out)
        print(file=out)

    print("The walls the notebook hit, and what autodx says instead:", file=out)
    x, y = _leaves(2.0, 1.0)
    for label, action in [
        ("f(x, y).backward() on a vector output", lambda: f_jac(x, y).backward()),
        ("ad.jacobian(ad.jacobian(f, argnums=(0, 1)), argnums=1)(v)",
         lambda: ad.jacobian(ad.jacobian(f_hess, argnums=(0, 1)), argnums=1)(np.ones(2))),
    ]:
        try:
            action()
            failures += 1
            print(f"  {label}: no error (unexpected)", file=out)
        except (RuntimeError, ValueError, TypeError) as error:
            print(f"  {label}:\n    {type(error).__name__}: {error}", file=out)
    print(f"\n{'all values agree' if not failures else f'{failures} DISAGREEMENTS'}", file=out)
    return 1 if failures else 0


# ----------------------------------------------------------------------------- the commands

PROGRESS_DELAY_S = 0.5  # a plot shows a progress bar (extra `cli`) only once it takes this long
EXPLAIN_POINT = 0.5  # where `explain` stages the function when no --at is given (any point)


class CommandError(ValueError):
    """A mistake on the command line: printed as one message, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit; main() prints and returns 2
        raise CommandError(f"{message}\n{self.format_usage().rstrip()}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="autodx", description="Derivatives from the command line, and the "
                     "notebook's demo. Run `autodx COMMAND -h` for a command's options.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("demo", help="recompute the notebook's cells both ways and check them")
    common = _Parser(add_help=False)
    common.add_argument("expression", help='e.g. "3*x**2" or "[x**2 + y**2, x - y]"')
    common.add_argument("--at", action="append", default=[], metavar="NAME=VALUE,...",
                        help="the point: --at x=2,y=1.5 (values may be expressions: pi/4, "
                             "[1, 2, 3]); its order is the order of the variables")
    common.add_argument("--json", action="store_true", help="print one JSON object")
    wrt = _Parser(add_help=False)
    wrt.add_argument("--wrt", metavar="NAME,...", help="differentiate in these variables only "
                     "(default: all, in --at order)")
    for name, what in [("grad", "the gradient (the partials) of a scalar expression"),
                       ("jacobian", "the Jacobian matrix: rows = outputs, columns = inputs"),
                       ("hessian", "the Hessian matrix of a scalar expression")]:
        sub.add_parser(name, parents=[common, wrt], help=what, description=what)
    sub.add_parser("value", parents=[common], help="the expression's value")
    explain = sub.add_parser("explain", parents=[common, wrt],
                             help="the derivative as a formula (6*x for 3*x**2)")
    explain.add_argument("--order", type=int, default=1,
                         help="0: the expression, 1: its derivative (default), 2: the Hessian")
    plot = sub.add_parser("plot", parents=[common], help="draw f, f', f'' to a PNG (or the "
                          "contours and gradient of f(x, y))")
    plot.add_argument("--range", default="-3:3", metavar="LO:HI", help="x from LO to HI")
    plot.add_argument("--yrange", metavar="LO:HI", help="y from LO to HI, for f(x, y)")
    plot.add_argument("--order", type=int, default=2, help="derivatives to draw (default 2)")
    plot.add_argument("--num", type=int, default=400, help="sample points (default 400)")
    plot.add_argument("-o", "--output", required=True, help="the image file to write (.png)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 2 (one message on stderr) on a mistake."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    command = next((a for a in argv if not a.startswith("-")), "autodx")
    try:
        args = parser.parse_args(_negatives_as_values(argv))
    except CommandError as error:
        return _fail("autodx", str(error))
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "demo":
        return demo()
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # nan and inf print as nan, inf
            record, text = COMMANDS[args.command](args)
    except (ExpressionError, CommandError) as error:
        return _fail(f"autodx {command}", str(error))
    except ImportError as error:  # a missing extra: its message names it
        return _fail(f"autodx {command}", str(error).splitlines()[0] if str(error) else
                     f"a module is missing: {error.name}")
    except Exception as error:  # one message, never a traceback
        return _fail(f"autodx {command}", f"{type(error).__name__}: {error}")
    print(json.dumps(record, allow_nan=False) if args.json else text)
    return 0


def _fail(prefix: str, message: str) -> int:
    print(f"{prefix}: {message}", file=sys.stderr)
    return 2


def _negatives_as_values(argv: list[str]) -> list[str]:
    """argparse takes "-x**2" and "-3:3" for options; a leading space makes them values (the
    expression and the ranges are stripped)."""
    options = {"-h", "-o"}
    return [f" {a}" if a.startswith("-") and not a.startswith("--") and a not in options
            else a for a in argv]


# ----------------------------------------------------------------------------- the point

def _split_top(text: str) -> list[str]:
    """Split at the commas outside brackets: "x=[1, 2],y=3" -> ["x=[1, 2]", "y=3"]."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += c in "([{"
        depth -= c in ")]}"
        if c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [p.strip() for p in parts + [text[start:]] if p.strip()]


def _constant(text: str, where: str):
    """A number or an array written in the expression language (2, -1.5, pi/4, [1, 2])."""
    try:
        value = parse(text, variables=[]).function()
    except ExpressionError as error:
        raise CommandError(f"{where}: {error}") from None
    array = np.asarray(value)
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    if array.dtype.kind not in "fc":
        raise CommandError(f"{where}: {text!r} is not a number or an array of numbers")
    return array[()]  # a NumPy scalar (x/0 is inf, as in the arrays) or the array


def _point(items: list[str]) -> dict[str, object]:
    """--at x=2,y=1.5 (repeatable) as {name: value}, in the order given."""
    at: dict[str, object] = {}
    for item in (part for arg in items for part in _split_top(arg)):
        name, equals, value = item.partition("=")
        if not equals or not value.strip():
            raise CommandError(f"--at {item}: expected NAME=VALUE, e.g. --at x=2,y=1.5")
        try:
            name = check_variable_name(name.strip(), where=f"--at {item}")
        except ExpressionError as error:
            raise CommandError(str(error)) from None
        if name in at:
            raise CommandError(f"--at {item}: {name} is given twice")
        at[name] = _constant(value, f"--at {item}")
    return at


def _expression(args, *, need_values: bool = True, fixed=()):
    """The parsed expression with its variables in --at order, and the point."""
    at = _point(args.at)
    free = parse(args.expression).variables
    missing = [v for v in free if v not in at]
    if need_values and missing:
        given = ",".join(f"{v}=..." for v in missing)
        close = [m for v in missing for m in _close(v)]
        maybe = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise CommandError(f"no value for {', '.join(missing)}{maybe}: give every variable of "
                           f"the expression a value, e.g. --at {given}")
    names = [*at] if need_values else [*missing, *at]
    return parse(args.expression, variables=names), at


def _close(name: str) -> list[str]:
    import difflib

    space = namespace()
    return difflib.get_close_matches(name, [*space.constants, *space.functions], n=2, cutoff=0.7)


def _argnums(args, variables: tuple[str, ...]) -> tuple[int, ...]:
    if not variables:
        raise CommandError(f"the expression {args.expression.strip()!r} has no variables, so "
                           f"there is nothing to differentiate")
    if not args.wrt:
        return tuple(range(len(variables)))
    wrt = _split_top(args.wrt)
    unknown = [w for w in wrt if w not in variables]
    if unknown or not wrt:
        raise CommandError(f"--wrt {args.wrt}: {', '.join(unknown) or 'no names'} not among "
                           f"the variables {', '.join(variables)}")
    return tuple(variables.index(w) for w in wrt)


def _record(args, expr, at: dict, **fields) -> dict:
    return {"command": args.command, "expression": expr.text, "variables": list(expr.variables),
            "at": {k: _json(plain_value(v)) for k, v in at.items()}, **fields}


def _values(expr, at: dict) -> list:
    return [at[v] for v in expr.variables]


def _scalar(expr, at: dict, command: str) -> None:
    value = expr.function(*_values(expr, at))
    shape = np.shape(value.detach().numpy() if hasattr(value, "detach") else value)
    if shape != ():
        raise CommandError(
            f"{command} needs an expression whose value is one number, but {expr.text!r} has "
            f"shape {shape} here; for a vector-valued expression use autodx jacobian (and "
            f"sum(...) for a scalar)")


def _grad(args):
    expr, at = _expression(args)
    argnums = _argnums(args, expr.variables)
    _scalar(expr, at, "grad")
    value = ad.grad(expr.function, argnums=argnums[0] if len(argnums) == 1 else argnums)(
        *_values(expr, at))
    return _result(args, expr, at, value)


def _jacobian(args):
    expr, at = _expression(args)
    value = ad.jacobian(expr.function, argnums=_argnums(args, expr.variables), matrix=True)(
        *_values(expr, at))
    return _result(args, expr, at, value)


def _hessian(args):
    expr, at = _expression(args)
    argnums = _argnums(args, expr.variables)
    _scalar(expr, at, "hessian")
    value = ad.hessian(expr.function, argnums=argnums, matrix=True)(*_values(expr, at))
    return _result(args, expr, at, value)


def _value(args):
    expr, at = _expression(args)
    return _result(args, expr, at, expr.function(*_values(expr, at)))


def _result(args, expr, at: dict, value) -> tuple[dict, str]:
    return _record(args, expr, at, value=_json(plain_value(value))), format_value(value)


def _explain(args):
    from autodx.explain import explain

    if args.order < 0:
        raise CommandError(f"--order {args.order}: the order must be 0 (the expression), 1 (its "
                           f"derivative) or more")
    expr, at = _expression(args, need_values=bool(args.at))
    argnums = _argnums(args, expr.variables) if args.order else 0
    point = _values(expr, at) if args.at else [EXPLAIN_POINT] * len(expr.variables)
    explained = explain(expr.function, argnums=argnums[0] if argnums != 0 and len(argnums) == 1
                        else argnums, order=args.order, names=list(expr.variables))(*point)
    fields = {"order": args.order, "formula": explained.formula}
    lines = [explained.formula]
    if args.at:
        fields["value"] = _json(plain_value(explained.value))
        where = ", ".join(f"{k} = {format_value(v)}" for k, v in at.items())
        lines.append(f"at {where}: {format_value(explained.value)}")
    return _record(args, expr, at, **fields), "\n".join(lines)


def _range(text: str, option: str) -> tuple[float, float]:
    parts = text.strip().split(":")
    if len(parts) != 2:
        raise CommandError(f"{option} {text.strip()}: expected LO:HI, e.g. {option} -3:3")
    lo, hi = (_constant(p, f"{option} {text.strip()}") for p in parts)
    if not all(isinstance(v, float) and math.isfinite(v) for v in (lo, hi)) or not lo < hi:
        raise CommandError(f"{option} {text.strip()}: LO and HI must be finite numbers with "
                           f"LO < HI, e.g. {option} -3:3")
    return lo, hi


def _plot(args):
    from autodx.plot import plot

    expr, at = _expression(args, need_values=False)
    plotted = [v for v in expr.variables if v not in at]
    if len(plotted) not in (1, 2):
        raise CommandError(
            f"plot draws an expression of one or two variables (f(x), or f(x, y) as contours), "
            f"but {expr.text!r} has {len(plotted)} free: {', '.join(plotted) or 'none'}; fix the "
            f"others with --at, e.g. --at {','.join(v + '=1' for v in plotted[2:]) or 'x=1'}")
    if args.yrange and len(plotted) != 2:
        raise CommandError("--yrange is for expressions of two variables (contours of f(x, y))")
    xrange = _range(args.range, "--range")
    yrange = _range(args.yrange, "--yrange") if args.yrange else None
    fixed = [at[v] for v in expr.variables if v in at]
    steps = (args.order + 1 if len(plotted) == 1 else 1 + (args.order >= 1)) + 1
    what = " and its derivatives" if args.order and len(plotted) == 1 else (
        ": contours and gradient" if args.order else "")
    if at:
        what += " at " + ", ".join(f"{k} = {format_value(v)}" for k, v in at.items())
    with _progress(steps, "autodx plot") as tick:
        def function(*values):
            tick()  # once per batched evaluation (f, f', f'', ...): vmap calls it once each
            return expr.function(*values, *fixed)

        function.__signature__ = inspect.Signature(
            [inspect.Parameter(v, inspect.Parameter.POSITIONAL_ONLY) for v in plotted])
        fig = plot(function, xrange, order=args.order, num=args.num, yrange=yrange,
                   title=f"{expr.text}{what}")
        fig.savefig(args.output)
        tick()
    fields = {"range": list(xrange), "order": args.order, "output": args.output}
    if yrange:
        fields["yrange"] = list(yrange)
    return _record(args, expr, at, **fields), f"wrote {args.output}"


@contextlib.contextmanager
def _progress(total: int, description: str) -> Iterator[Callable[[], None]]:
    """A tqdm bar on stderr that appears only if the work takes PROGRESS_DELAY_S or longer
    (and only on a terminal); nothing at all without tqdm (the `cli` extra)."""
    try:
        from tqdm import tqdm
    except ImportError:
        yield lambda: None
        return
    bar = tqdm(total=total, desc=description, delay=PROGRESS_DELAY_S, disable=None,
               leave=False, file=sys.stderr, unit="step")
    done = [0]

    def tick() -> None:
        if done[0] < total:
            done[0] += 1
            bar.update(1)

    try:
        yield tick
    finally:
        bar.close()


COMMANDS: dict[str, Callable] = {"grad": _grad, "jacobian": _jacobian, "hessian": _hessian,
                                 "value": _value, "explain": _explain, "plot": _plot}


# ----------------------------------------------------------------------------- numbers

def _json(plain):
    """JSON has no nan, inf or complex: "nan", "inf", "-inf", {"real": ..., "imag": ...}."""
    if isinstance(plain, (tuple, list)):
        return [_json(v) for v in plain]
    if isinstance(plain, float) and not math.isfinite(plain):
        return "nan" if math.isnan(plain) else "inf" if plain > 0 else "-inf"
    if isinstance(plain, complex):
        return {"real": _json(plain_value(plain.real)), "imag": _json(plain_value(plain.imag))}
    return plain


if __name__ == "__main__":
    raise SystemExit(main())
