"""The expression language of the `autodx` command line: Python arithmetic over named variables
and the functions of `ad.numpy`, as in `"sin(x) * x**2"` or `"[x**2 + y**2, x - y]"`.

Why a walker and not `eval`: the text comes from a command line (or a web form, or a notebook
someone sent), and Python's `eval` reaches everything from `().__class__.__bases__`. Here the
text is parsed with `ast.parse(text, mode="eval")`, every node is checked against a whitelist
before anything runs, and the checked tree is turned into closures that call `ad.numpy`
functions and Python's operators on numbers and arrays, nothing else. No `eval`, `exec` or
`compile` of the text, ever. What is refused gets an `ExpressionError` that shows the text with
a caret line under the offending part and says what is allowed.

Allowed: numbers (int, float, complex, True/False), variables, unary `+ -`, binary
`+ - * / // % ** @`, comparisons `< <= > >= == !=` (chains too, for `where`), calls by name of
the functions of `ad.numpy` with positional arguments and the keywords in `KEYWORDS`, list and
tuple displays (an argument of a call stays a list, `stack([a, b])`; anywhere else a display is
an array, `[x**2 + y**2, x - y]` is `stack(...)`), and indexing of variables with integers and
slices (`x[0]`, `x[1:3]`, `x[0, ::2]`).

Resources are bounded before they are spent: the text's length and nesting depth, integer
literals (int64), integer powers (`9**9**9` is refused before computing), the elements of every
value (`MAX_ELEMENTS`) and the work of one call (`MAX_WORK`, estimated from its arguments before
the call: `ones((10**5, 10**5))` is refused, not attempted).
"""

from __future__ import annotations

import ast
import builtins
import difflib
import functools
import inspect
import math
import numbers
import operator
import textwrap
import types
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_LENGTH = 10_000  # characters of an expression
MAX_DEPTH = 100  # nesting of the syntax tree (x+x+...+x is 1 level per +)
MAX_INT = 2**63 - 1  # Python ints beyond int64 would become object arrays in NumPy
MAX_ELEMENTS = 10**6  # elements of any value the expression computes
MAX_WORK = 10**7  # elements one call may build or touch, estimated before the call

# Keywords a call may use: each takes numbers (an axis, a flag, an offset, a count), so none
# can pass a string, a dtype, an output buffer or a function, and sum(x, axis=0) still works.
KEYWORDS = ("axis", "keepdims", "ddof", "k", "n")

ALLOWED = ("allowed: numbers, variables, + - * / // % ** @, comparisons (< <= > >= == !=), "
           "ad.numpy functions called by name (sin(x), maximum(x, y), sum(x, axis=0)), lists "
           "[a, b], and indexing of a variable (x[0], x[1:3])")

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow, ast.MatMult: operator.matmul}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
            ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}
_SYMBOL = {ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^",
           ast.BitAnd: "&", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
           ast.NotIn: "not in", ast.Not: "not", ast.Invert: "~"}

# Refused whatever autodx.numpy exports: they read or write files, print, change global state,
# or take a function (which would let Python code run inside a call).
DENIED = frozenset("""
    vectorize frompyfunc piecewise apply_along_axis apply_over_axes fromfunction load loadtxt
    save savez savez_compressed savetxt fromfile tofile genfromtxt fromregex fromstring
    frombuffer fromiter memmap open_memmap DataSource info source lookfor who show_config
    show_runtime get_include set_printoptions get_printoptions printoptions seterr geterr
    seterrcall geterrcall errstate setbufsize getbufsize deprecate safe_eval test nditer
    nested_iters
""".split())
_DENIED_PARTS = ("load", "save", "file", "txt", "regex", "memmap", "print", "func", "vectorize")
_CALLABLE_PARAMETERS = frozenset(
    "func function pyfunc func1d funclist callback callable fun fn".split())

# Parameters whose numbers are sizes (a shape, a count): they count as work before a call.
_SIZE_PARAMETERS = frozenset(
    "shape N M n num reps pad_width new_shape dimensions deg m indices_or_sections ndim "
    "dims".split())
# Calls whose output (or work) is the product of their inputs' sizes, not the sum.
_PRODUCT = frozenset(
    "outer kron convolve correlate polymul polydiv polyval dot matmul inner tensordot vdot "
    "matvec vecmat vecdot cross meshgrid ix_ broadcast_arrays einsum einsum_path interp isin "
    "searchsorted unravel_index ravel_multi_index".split())


class ExpressionError(ValueError):
    """An expression that is refused or fails: the message shows the text, a caret line under
    the offending part, and what to do. `problem`, `text`, `start`, `end` keep the parts."""

    def __init__(self, problem: str, text: str = "", start: int | None = None,
                 end: int | None = None, hint: str | None = ALLOWED):
        self.problem, self.text, self.start, self.end, self.hint = problem, text, start, end, hint
        super().__init__(_format(problem, text, start, end, hint))


def _format(problem: str, text: str, start: int | None, end: int | None,
            hint: str | None) -> str:
    lines = [problem]
    if text:
        shown = "".join(c if c.isprintable() else "?" for c in text)
        if start is None:
            lines.append(f"  {_window(shown, 0, 0)[0]}")
        else:
            start = min(max(start, 0), len(shown))
            end = min(max(end if end is not None else start + 1, start + 1), len(shown) + 1)
            window, left = _window(shown, start, end)
            caret = " " * (start - left) + "^" * (end - start)
            lines += [f"  {window}", f"  {caret[: len(window) + 1]}"]
    if hint:
        lines += textwrap.wrap(hint, width=96, subsequent_indent="  ")
    return "\n".join(lines)


def _window(shown: str, start: int, end: int, width: int = 76) -> tuple[str, int]:
    """The part of a long text around [start, end), and where it starts (for the caret)."""
    if len(shown) <= width:
        return shown, 0
    left = max(0, min(start - 20, len(shown) - width))
    right = min(len(shown), left + width)
    prefix = "..." if left else ""
    return prefix + shown[left:right] + ("..." if right < len(shown) else ""), left - len(prefix)


# ----------------------------------------------------------------------------- the names

@dataclass(frozen=True)
class _Namespace:
    functions: dict[str, Callable]
    constants: dict[str, Any]
    denied: dict[str, str]  # ad.numpy names that are refused, and why


@functools.lru_cache(maxsize=1)
def namespace() -> _Namespace:
    """The functions and constants of `autodx.numpy` that an expression may use: its public
    callables that neither take a function nor do I/O, and its numeric constants."""
    from . import numpy as anp

    functions, constants, denied = {}, {}, {}
    for name in sorted(set(anp.__all__)):
        obj = getattr(anp, name, None)
        if name.startswith("_") or isinstance(obj, (types.ModuleType, type)):
            continue
        if isinstance(obj, numbers.Number) and not isinstance(obj, bool):
            constants[name] = obj
        elif callable(obj):
            why = _refusal(name, obj)
            if why:
                denied[name] = why
            else:
                functions[name] = obj
    return _Namespace(functions, constants, denied)


def _refusal(name: str, fn: Callable) -> str | None:
    if name in DENIED or any(part in name for part in _DENIED_PARTS):
        return f"{name} is not available in expressions: it does I/O or takes a function"
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return f"{name} is not available in expressions: its signature cannot be checked"
    if _CALLABLE_PARAMETERS & set(parameters) or any(
            "Callable" in str(p.annotation) for p in parameters.values()):
        return f"{name} is not available in expressions: it takes a function"
    return None


_BUILTINS = frozenset(dir(builtins))


def _is_identifier(name: object) -> bool:
    return isinstance(name, str) and name.isidentifier() and not name.startswith("_")


def check_variable_name(name: object, where: str = "variables") -> str:
    """`name` as a variable name (NFKC-normalized, as Python's parser does), or an
    ExpressionError that says why it cannot be one."""
    space = namespace()
    if not isinstance(name, str) or not name.isidentifier():
        raise ExpressionError(f"{where}: {name!r} is not a variable name; use a name such as "
                              f"x, y or theta", hint=None)
    name = unicodedata.normalize("NFKC", name)
    why = (
        "names starting with an underscore are not allowed" if name.startswith("_") else
        f"{name} is an ad.numpy function" if name in space.functions or name in space.denied
        else f"{name} is a constant ({space.constants[name]!r})" if name in space.constants
        else f"{name} is a Python builtin" if name in _BUILTINS else None)
    if why:
        raise ExpressionError(f"{where}: {name!r} cannot be a variable: {why}; choose another "
                              f"name", hint=None)
    return name


# ----------------------------------------------------------------------------- parse

@dataclass(frozen=True)
class Expression:
    """A checked expression. `function(*values)` evaluates it over `autodx.numpy` with the
    values of `variables` in that order, so `ad.grad(e.function, argnums=(0, 1))` works."""

    text: str
    variables: tuple[str, ...]
    function: Callable[..., Any]

    def __call__(self, *values: Any) -> Any:
        return self.function(*values)


def parse(text: str, variables: Sequence[str] | None = None) -> Expression:
    """Check `text` and build its function. `variables`: the names it takes, in order (names
    the text does not use are allowed: their derivative is 0); by default the text's free
    names in alphabetical order. Raises ExpressionError for anything refused."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, got {type(text).__name__}",
                              hint=None)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long, more than the "
                              f"{MAX_LENGTH} allowed", text, MAX_LENGTH, len(text), hint=None)
    text = text.translate({ord(c): " " for c in "\t\n\r\f\v"}).strip()
    if not text:
        raise ExpressionError("the expression is empty; write one such as 3*x**2")
    given = None
    if variables is not None:
        if isinstance(variables, str):
            variables = [variables]
        given = [check_variable_name(v) for v in variables]
        if len(set(given)) != len(given):
            raise ExpressionError(f"variables: {list(variables)!r} names a variable twice",
                                  hint=None)
    tree = _syntax(text)
    names = _Names(namespace(), given)
    _check(tree, text, names)
    free = tuple(given) if given is not None else tuple(sorted(names.free))
    code = _Compiler(text, names).compile(tree.body, arg=False)
    return Expression(text, free, _function(text, free, code))


def _syntax(text: str) -> ast.Expression:
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" & co: the error says more
            warnings.simplefilter("ignore")
            return ast.parse(text, mode="eval")
    except SyntaxError as e:
        known = bool(e.offset) and e.lineno == 1
        start = e.offset - 1 if known else len(text)
        end = e.end_offset - 1 if known and e.end_offset and e.end_offset > e.offset else (
            start + 1)
        raise ExpressionError(f"this is not a valid expression: {e.msg}", text, start, end
                              ) from None
    except (ValueError, OverflowError) as e:
        raise ExpressionError(f"this is not a valid expression: {e}", text) from None
    except (RecursionError, MemoryError):
        raise ExpressionError("Python's parser cannot build this expression: it is nested too "
                              "deeply or chains too many operators; write a shorter one",
                              text, hint=None) from None


class _Names:
    """What each name of the text is, and the free names (the variables) found."""

    def __init__(self, space: _Namespace, given: list[str] | None):
        self.space, self.given, self.free = space, given, set()

    def value_problem(self, name: str) -> str | None:
        space = self.space
        if name in space.functions or name in space.denied:
            return f"{name} is a function: call it, as in {name}(x)"
        if name in space.constants or (self.given is not None and name in self.given):
            return None
        if self.given is not None:
            return self.unknown(name, list(self.given) + list(space.constants), "name")
        if name in _BUILTINS:
            return (f"{name} is a Python builtin, and the expression language has no access to "
                    f"Python's builtins")
        self.free.add(name)
        return None

    def callee_problem(self, name: str) -> str | None:
        space = self.space
        if name in space.functions:
            return None
        if name in space.denied:
            return space.denied[name]
        if name in DENIED:
            return f"{name} is not available in expressions: it does I/O or takes a function"
        if name in space.constants or (self.given and name in self.given):
            return f"{name} is not a function: only ad.numpy functions can be called"
        if name in _BUILTINS:
            return (f"{name} is a Python builtin, not an ad.numpy function; the expression "
                    f"language calls only ad.numpy functions")
        return self.unknown(name, list(space.functions), "function")

    def unknown(self, name: str, candidates: list[str], what: str) -> str:
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
        known = f"; the variables are {', '.join(self.given)}" if (
            what == "name" and self.given) else ""
        maybe = f"; did you mean {' or '.join(close)}?" if close else ""
        return f"unknown {what} {name!r}{maybe}{known}"


# ----------------------------------------------------------------------------- the whitelist

def _span(node: ast.AST, text: str) -> tuple[int, int]:
    """The node's [start, end) in characters (the AST counts UTF-8 bytes)."""
    start = node.col_offset
    end = node.end_col_offset if node.end_col_offset is not None else start + 1
    chars = _char_offsets(text)
    if chars is None:  # ASCII: bytes are characters
        return start, end
    return chars[min(start, len(chars) - 1)], chars[min(end, len(chars) - 1)]


@functools.lru_cache(maxsize=8)
def _char_offsets(text: str) -> list[int] | None:
    """For each UTF-8 byte offset of `text`, the character offset; None for ASCII text."""
    if text.isascii():
        return None
    offsets = []
    for i, c in enumerate(text):
        offsets += [i] * len(c.encode("utf-8"))
    return offsets + [len(text)]


def _check(tree: ast.Expression, text: str, names: _Names) -> None:
    """Walk every node (iteratively: no recursion on deep trees) and refuse the leftmost,
    innermost problem. Roles: "value", "arg" (of a call: a display stays a list), "callee"."""
    problems = []
    stack = [(tree.body, "value", 1)]
    while stack:
        node, role, depth = stack.pop()
        if depth > MAX_DEPTH:
            problems.append((*_span(node, text), f"the expression is nested more than "
                             f"{MAX_DEPTH} levels deep", None))
            continue
        problem = _problem(node, role, names)
        if problem is not None:
            message, hint = problem if isinstance(problem, tuple) else (problem, ALLOWED)
            problems.append((*_span(node, text), message, hint))
        children = _children(node, role) if problem is None else [
            (c, "value") for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
        stack += [(child, child_role, depth + _deeper(node, child))
                  for child, child_role in children]
    if problems:
        start, end, message, hint = min(problems, key=lambda p: (p[0], p[1]))
        raise ExpressionError(message, text, start, end, hint)


def _deeper(node: ast.AST, child: ast.AST) -> int:
    """0 along the left spine of a chain a + b - c ... (compiled as a loop, not nested), else 1:
    a sum of many terms is as shallow as it reads."""
    return 0 if isinstance(node, ast.BinOp) and node.left is child and isinstance(
        child, ast.BinOp) else 1


def _children(node: ast.AST, role: str) -> list[tuple[ast.AST, str]]:
    if isinstance(node, ast.UnaryOp):
        return [(node.operand, "value")]
    if isinstance(node, ast.BinOp):
        return [(node.left, "value"), (node.right, "value")]
    if isinstance(node, ast.Compare):
        return [(n, "value") for n in (node.left, *node.comparators)]
    if isinstance(node, ast.Call):
        return [(node.func, "callee"), *((a, "arg") for a in node.args),
                *((k, "keyword") for k in node.keywords)]
    if isinstance(node, ast.keyword):
        return [(node.value, "arg")]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [(e, role) for e in node.elts]
    if isinstance(node, ast.Subscript):
        return [(node.value, "value")]
    return []


def _problem(node: ast.AST, role: str, names: _Names):
    """None if the node itself is allowed in this role, else the message (or message, hint)."""
    if role == "callee":
        if isinstance(node, ast.Name):
            return _name_problem(node.id) or names.callee_problem(node.id)
        return _problem(node, "value", names) or (
            "only ad.numpy functions can be called, by name, as in sin(x)")
    if isinstance(node, ast.Constant):
        return _constant_problem(node.value)
    if isinstance(node, ast.Name):
        return _name_problem(node.id) or names.value_problem(node.id)
    if isinstance(node, (ast.UnaryOp, ast.BinOp)) and type(node.op) not in {**_UNARY, **_BINARY}:
        return _operator_problem(node.op)
    if isinstance(node, ast.Compare):
        bad = [op for op in node.ops if type(op) not in _COMPARE]
        return _operator_problem(bad[0]) if bad else None
    if isinstance(node, ast.keyword):
        return _keyword_problem(node)
    if isinstance(node, ast.Subscript):
        return _subscript_problem(node, names)
    if isinstance(node, (ast.UnaryOp, ast.BinOp, ast.List, ast.Tuple, ast.Call)):
        return None
    if isinstance(node, ast.Attribute):
        return f"attribute access (.{node.attr}) is not allowed"
    return _REFUSED.get(type(node), f"{type(node).__name__} is not allowed")


_REFUSED = {
    ast.Lambda: "lambda is not allowed: the expression is the function already (x**2, not "
                "lambda x: x**2)",
    ast.ListComp: "comprehensions are not allowed; write the elements out: [x, 2*x]",
    ast.SetComp: "comprehensions are not allowed; write the elements out: [x, 2*x]",
    ast.DictComp: "comprehensions are not allowed; write the elements out: [x, 2*x]",
    ast.GeneratorExp: "comprehensions are not allowed; write the elements out: [x, 2*x]",
    ast.Starred: "starred arguments (*a) are not allowed",
    ast.JoinedStr: "strings (f-strings too) are not allowed",
    ast.FormattedValue: "strings (f-strings too) are not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.BoolOp: "and/or are not allowed; use logical_and(a, b) or logical_or(a, b)",
    ast.IfExp: "a if c else b is not allowed; use where(c, a, b)",
    ast.Dict: "{...} displays are not allowed; use a list [a, b]",
    ast.Set: "{...} displays are not allowed; use a list [a, b]",
    ast.Slice: "a slice is allowed only as the index of a variable, as in x[1:3]",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}


def _constant_problem(value: object) -> str | tuple | None:
    if isinstance(value, bool) or isinstance(value, (float, complex)):
        return None
    if isinstance(value, int):
        return None if abs(value) <= MAX_INT else (
            "this integer is too large (the limit is 2**63 - 1)",
            "write a large number as a float, e.g. 1e20")
    if isinstance(value, (str, bytes)):
        return "strings are not allowed"
    return f"{value!r} is not allowed"


def _name_problem(name: str) -> str | None:
    if name.startswith("_"):
        return f"names starting with an underscore ({name}) are not allowed"
    return None


def _operator_problem(op: ast.AST) -> tuple[str, str]:
    symbol = _SYMBOL.get(type(op), type(op).__name__)
    hint = {"not": "use logical_not(a)", "~": "use logical_not(a)",
            "&": "use logical_and(a, b)", "|": "use logical_or(a, b)",
            "^": "use logical_xor(a, b)"}.get(symbol, ALLOWED)
    return f"the operator {symbol!r} is not allowed", hint


def _keyword_problem(keyword: ast.keyword):
    if keyword.arg is None:
        return "**keyword unpacking is not allowed"
    if keyword.arg not in KEYWORDS:
        return (f"the keyword argument {keyword.arg}= is not allowed",
                f"allowed keywords: {', '.join(k + '=' for k in KEYWORDS)}")
    return None


def _subscript_problem(node: ast.Subscript, names: _Names):
    hint = "index a variable with integers and slices: x[0], x[-1], x[1:3], x[0, ::2]"
    if not isinstance(node.value, ast.Name):
        return "only a variable can be indexed, as in x[0] or x[1:3]", hint
    if node.value.id in names.space.constants:
        return f"only a variable can be indexed, and {node.value.id} is a constant", hint
    # a function name or an unknown name is reported on the name itself (its own node)
    try:
        static_index(node.slice)
    except ValueError:
        return "an index must be integers and slices of integers", hint
    return None


def static_index(node: ast.AST):
    """The index `x[...]` names, built from integer literals only (ValueError otherwise)."""
    if isinstance(node, ast.Tuple):
        if any(isinstance(e, ast.Tuple) for e in node.elts):
            raise ValueError("nested tuple")
        return tuple(static_index(e) for e in node.elts)
    if isinstance(node, ast.Slice):
        return slice(*(None if p is None else _index_int(p)
                       for p in (node.lower, node.upper, node.step)))
    return _index_int(node)


def _index_int(node: ast.AST) -> int:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign, node = (-1 if isinstance(node.op, ast.USub) else 1), node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int and abs(node.value) <= MAX_INT:
        return sign * node.value
    raise ValueError("not an integer")


# ----------------------------------------------------------------------------- compile

@dataclass(frozen=True)
class _Const:
    value: Any


def _run(code, env: dict) -> Any:
    return code.value if isinstance(code, _Const) else code(env)


class _Compiler:
    """The checked tree as closures over an environment {variable: value}. Constant parts are
    computed here, with the same bounds, so `9**9**9` is refused at parse time."""

    def __init__(self, text: str, names: _Names):
        self.text, self.names = text, names

    def snippet(self, span) -> str:
        part = self.text[span[0]:span[1]]
        return repr(part if len(part) <= 40 else part[:37] + "...")

    def compile(self, node: ast.AST, arg: bool):
        span = _span(node, self.text)
        if isinstance(node, ast.Constant):
            return _Const(node.value)
        if isinstance(node, ast.Name):
            if node.id in self.names.space.constants:
                return _Const(self.names.space.constants[node.id])
            name = node.id
            return lambda env: env[name]
        if isinstance(node, ast.UnaryOp):
            return self._unary(node, span)
        if isinstance(node, ast.BinOp):
            return self._binary(node, span)
        if isinstance(node, ast.Compare):
            return self._compare(node, span)
        if isinstance(node, ast.Call):
            return self._call(node, span)
        if isinstance(node, (ast.List, ast.Tuple)):
            return self._display(node, span, arg)
        if isinstance(node, ast.Subscript):
            name, index = node.value.id, static_index(node.slice)
            return lambda env: self.guard(operator.getitem, (env[name], index), span,
                                          None)
        raise ExpressionError(f"{type(node).__name__} is not allowed", self.text, *span)

    def _unary(self, node: ast.UnaryOp, span):
        fn, operand = _UNARY[type(node.op)], self.compile(node.operand, arg=False)
        if isinstance(operand, _Const):
            return _Const(self.guard(fn, (operand.value,), span, None))
        return lambda env: self.guard(fn, (operand(env),), span, None)

    def _binary(self, node: ast.BinOp, span):
        """A left-associated chain a + b * c - d ... as one loop over its steps (no recursion
        however long the chain), its constant prefix computed now."""
        spine = []
        while isinstance(node, ast.BinOp):
            spine.append(node)
            node = node.left
        first, steps = self.compile(node, arg=False), []
        for step in reversed(spine):
            fn, right = _BINARY[type(step.op)], self.compile(step.right, arg=False)
            span = _span(step, self.text)
            if not steps and isinstance(first, _Const) and isinstance(right, _Const):
                first = _Const(self.arithmetic(fn, first.value, right.value, span))
            else:
                steps.append((fn, right, span))
        if not steps:
            return first

        def chain(env):
            value = _run(first, env)
            for fn, right, span in steps:
                value = self.arithmetic(fn, value, _run(right, env), span)
            return value

        return chain

    def _compare(self, node: ast.Compare, span):
        operands = [self.compile(n, arg=False) for n in (node.left, *node.comparators)]
        fns = [_COMPARE[type(op)] for op in node.ops]

        def compare(env):
            values = [_run(c, env) for c in operands]
            out = None
            for fn, a, b in zip(fns, values, values[1:]):
                pair = self.guard(fn, (a, b), span, None, sizes=(a, b))
                out = pair if out is None else self.guard(
                    namespace().functions["logical_and"], (out, pair), span, None)
            return out

        if all(isinstance(c, _Const) for c in operands):
            return _Const(compare({}))
        return compare

    def _call(self, node: ast.Call, span):
        name = node.func.id
        fn = self.names.space.functions[name]
        args = [self.compile(a, arg=True) for a in node.args]
        kwargs = {k.arg: self.compile(k.value, arg=True) for k in node.keywords}

        def call(env):
            values = [_run(a, env) for a in args]
            keywords = {k: _run(v, env) for k, v in kwargs.items()}
            _check_cost(name, fn, values, keywords, self.text, span)
            return self.guard(fn, values, span, f"{name}(...)", keywords)

        return call

    def _display(self, node: ast.List | ast.Tuple, span, arg: bool):
        kind = list if isinstance(node, ast.List) else tuple
        elements = [self.compile(e, arg=arg) for e in node.elts]
        if arg:  # an argument of a call: stack([a, b]), ones((2, 3))
            return lambda env: kind(_run(e, env) for e in elements)
        stack = namespace().functions["stack"]
        return lambda env: self.guard(stack, ([_run(e, env) for e in elements],), span,
                                      None)

    def arithmetic(self, fn, a, b, span):
        """a (op) b: Python numbers with integer bounds checked before computing, anything
        else with the size of the broadcast result checked before computing."""
        if _is_number(a) and _is_number(b):
            if fn is operator.pow and type(a) is int and type(b) is int and b > 0 and (
                    abs(a) > 1 and b * math.log2(abs(a)) > 63):
                raise ExpressionError(
                    f"{a}**{b} is too large an integer (more than 63 bits)", self.text, *span,
                    hint=f"for a floating-point result write the base as a float: {a}.0**{b}")
            out = self.guard(fn, (a, b), span, None)
            if type(out) is int and abs(out) > MAX_INT:
                raise ExpressionError("this integer is too large (the limit is 2**63 - 1)",
                                      self.text, *span,
                                      hint="write a large number as a float, e.g. 1e20")
            return out
        return self.guard(fn, (a, b), span, None, sizes=(a, b),
                          matmul=fn is operator.matmul)

    def guard(self, fn, args, span, what: str | None, kwargs=None, sizes=None, matmul=False):
        """fn(*args) with every failure an ExpressionError pointing at `span` (`what`: how to
        name it, by default its text), and the size of the result bounded (before the call
        for operators, after it for every value)."""
        if sizes is not None:
            _check_broadcast(*sizes, matmul, self.text, span)
        try:
            out = fn(*args, **(kwargs or {}))
        except ExpressionError:
            raise
        except _pass_through():
            raise
        except Exception as e:  # every failure of a call becomes one ExpressionError
            what = what or self.snippet(span)
            raise ExpressionError(f"{what} failed: {type(e).__name__}: {e}", self.text, *span,
                                  hint=None) from e
        if _size(out) > MAX_ELEMENTS:
            what = what or self.snippet(span)
            raise ExpressionError(f"{what} has {_size(out)} elements, more than the "
                                  f"{MAX_ELEMENTS} a value may have", self.text, *span, hint=None)
        return out


@functools.lru_cache(maxsize=1)
def _pass_through() -> tuple[type, ...]:
    """autodx's own signals to its transforms (restage, fall back to eager): not ours."""
    from .core import TracerConversionError
    from .program import GuardFailed

    return (TracerConversionError, GuardFailed)


def _function(text: str, variables: tuple[str, ...], code) -> Callable[..., Any]:
    def expression(*values):
        if len(values) != len(variables):
            raise TypeError(f"the expression {text!r} takes {len(variables)} values "
                            f"({', '.join(variables) or 'none'}), got {len(values)}")
        for name, value in zip(variables, values):
            if _size(value) > MAX_ELEMENTS:
                raise ExpressionError(f"the value of {name} has {_size(value)} elements, more "
                                      f"than the {MAX_ELEMENTS} allowed", text, hint=None)
        return _run(code, dict(zip(variables, values)))

    expression.__signature__ = inspect.Signature(
        [inspect.Parameter(v, inspect.Parameter.POSITIONAL_ONLY) for v in variables])
    expression.__doc__ = text
    return expression


# ----------------------------------------------------------------------------- sizes

def _is_number(v) -> bool:
    return type(v) in (int, float, complex, bool)


def _shape(v) -> tuple[int, ...] | None:
    if _is_number(v):
        return ()
    shape = getattr(v, "shape", None)
    return tuple(shape) if isinstance(shape, tuple) else None


def _size(v, depth: int = 0) -> int:
    shape = _shape(v)
    if shape is not None:
        return math.prod(shape)
    if isinstance(v, (list, tuple)) and depth < 20:
        return sum(_size(e, depth + 1) for e in v)
    return 1


def _check_broadcast(a, b, matmul: bool, text: str, span) -> None:
    sa, sb = _shape(a), _shape(b)
    if sa is None or sb is None:
        return
    if matmul and sa and sb:
        work = math.prod(sa) * math.prod(sb) // max(sa[-1], 1)
        what = "this matrix product"
    else:
        try:
            work = math.prod(np.broadcast_shapes(sa, sb))
        except ValueError:
            return  # the operation itself says why the shapes do not fit
        what = "this operation"
    limit = MAX_WORK if matmul else MAX_ELEMENTS
    if work > limit:
        raise ExpressionError(f"{what} would compute {work} elements, more than the {limit} "
                              f"allowed", text, *span, hint=None)


def _number(v) -> float | None:
    """A concrete real number (Python, NumPy scalar, 0-d array), else None."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, float, np.integer, np.floating)) or (
            isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iuf"):
        x = abs(float(v))
        return x if math.isfinite(x) else float(MAX_WORK + 1)
    return None


def _is_size_value(v) -> bool:
    return _number(v) is not None or isinstance(v, (list, tuple)) or (
        isinstance(v, np.ndarray) and v.dtype.kind in "iu")


def _size_like(v, depth: int = 0) -> float:
    """The size that a number (or a tuple of numbers, or an int array) asks for."""
    x = _number(v)
    if x is not None:
        return max(1.0, math.ceil(x))
    if isinstance(v, (list, tuple)) and depth < 4:
        return math.prod(_size_like(e, depth + 1) for e in v)
    if isinstance(v, np.ndarray) and v.dtype.kind in "iu" and v.size <= 64:
        return math.prod(max(1.0, float(abs(int(e)))) for e in v.ravel())
    return 1.0


@functools.cache
def _signature(fn: Callable) -> inspect.Signature:
    return inspect.signature(fn)


def _check_cost(name: str, fn: Callable, args: list, kwargs: dict, text: str, span) -> None:
    """Refuse a call whose estimated work (elements built or touched) passes MAX_WORK."""
    signature = _signature(fn)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as e:
        usage = ", ".join(p.name if p.kind is not p.VAR_POSITIONAL else f"*{p.name}"
                          for p in signature.parameters.values()
                          if p.default is p.empty and p.kind is not p.VAR_KEYWORD)
        raise ExpressionError(f"{name}(...): {e}; it is called as {name}({usage}, ...)", text,
                              *span, hint=None) from None
    a = bound.arguments
    special = _COSTS.get(name)
    cost = special(a) if special else _default_cost(name, signature, a)
    if cost > MAX_WORK:
        raise ExpressionError(f"{name}(...) would build or touch about {cost:.3g} elements, "
                              f"more than the {MAX_WORK} one call may", text, *span,
                              hint="use smaller sizes")


def _default_cost(name: str, signature: inspect.Signature, a: dict) -> float:
    data, size_like = [], 1.0
    for parameter, value in a.items():
        kind = signature.parameters[parameter].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            data += list(value)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            data += list(value.values())
        elif parameter in _SIZE_PARAMETERS and _is_size_value(value):
            size_like *= _size_like(value)
        else:
            data.append(value)
    sizes = [max(1, _size(v)) for v in data]
    if name in _PRODUCT:
        return math.prod(sizes) * size_like
    shapes = [s for s in (_shape(v) for v in data) if s is not None]
    try:
        broadcast = math.prod(np.broadcast_shapes(*shapes)) if shapes else 1
    except ValueError:
        broadcast = 1
    return max(sum(sizes), broadcast) * size_like


def _n(a: dict, key: str, default: float = 1.0) -> float:
    x = _number(a.get(key))
    return default if x is None else max(1.0, math.ceil(x))


def _arange_cost(a: dict) -> float:
    start, stop, step = a.get("start_or_stop"), a.get("stop"), a.get("step", 1)
    if stop is None:
        start, stop = 0, start
    start, stop, step = (_number(v) if v is not None else None for v in (start, stop, step))
    if start is None or stop is None or step is None or step == 0:
        return 1.0
    return math.ceil(abs(stop - start) / step) if step > 0 else 1.0


def _largest(v, depth: int = 0) -> float:
    """The largest count in a number, a (nested) list of numbers or an int array."""
    if isinstance(v, (list, tuple)) and depth < 4:
        return max((_largest(e, depth + 1) for e in v), default=1.0)
    if isinstance(v, np.ndarray) and v.dtype.kind in "iu" and v.size:
        return max(1.0, float(np.abs(v).max()))
    x = _number(v)
    return 1.0 if x is None else max(1.0, math.ceil(x))


def _diag_cost(a: dict) -> float:
    v = a.get("v")
    k = _number(a.get("k", 0)) or 0.0
    if len(_shape(v) or ()) >= 2:
        return float(_size(v))
    return (max(1, _size(v)) + k) ** 2


_COSTS: dict[str, Callable[[dict], float]] = {
    "arange": _arange_cost,
    "eye": lambda a: _n(a, "N") * _n(a, "M", _n(a, "N")),
    "tri": lambda a: _n(a, "N") * _n(a, "M", _n(a, "N")),
    "identity": lambda a: _n(a, "n") ** 2,
    "tril_indices": lambda a: _n(a, "n") * _n(a, "m", _n(a, "n")),
    "triu_indices": lambda a: _n(a, "n") * _n(a, "m", _n(a, "n")),
    "diag": _diag_cost,
    "diagflat": lambda a: (max(1, _size(a["v"])) + (_number(a.get("k", 0)) or 0.0)) ** 2,
    "vander": lambda a: max(1, _size(a["x"])) * _n(a, "N", max(1, _size(a["x"]))),
    "roots": lambda a: max(1, _size(a["p"])) ** 3,
    "poly": lambda a: max(1, _size(a["seq_of_zeros"])) ** 2,
    "cov": lambda a: (max(1, _size(a["m"])) + _size(a.get("y"))) ** 2,
    "corrcoef": lambda a: (max(1, _size(a["x"])) + _size(a.get("y"))) ** 2,
    "polyfit": lambda a: max(1, _size(a["x"])) * (_n(a, "deg") + 1) ** 2,
    "linspace": lambda a: _n(a, "num", 50) * max(1, _size(a["start"]), _size(a["stop"])),
    "logspace": lambda a: _n(a, "num", 50) * max(1, _size(a["start"]), _size(a["stop"])),
    "geomspace": lambda a: _n(a, "num", 50) * max(1, _size(a["start"]), _size(a["stop"])),
    "repeat": lambda a: max(1, _size(a["a"])) * _largest(a["repeats"]),
}
