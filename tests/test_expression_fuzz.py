"""Adversarial input for the expression language: random strings, token soups, generated
syntax trees that mix allowed and forbidden nodes, and the classic escapes.

Every outcome must be a value or an `ExpressionError` (never another exception, never a hang:
each example runs under a timer), and nothing outside the whitelist may run while an expression
is parsed or evaluated: `builtins.__import__`/`open`/`eval`/`exec`/`breakpoint`, `compile`
other than `ast.parse`'s (PyCF_ONLY_AST: a syntax tree, never code),
`os.system`/`os.popen` and `subprocess.Popen` are replaced by tripwires, and an audit hook
(installed once: audit hooks cannot be removed, so it records only while a flag is set) sees
processes, files, imports, compiles and execs at the interpreter's level."""

import ast
import builtins
import contextlib
import io
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodx as ad
from autodx.expression import MAX_LENGTH, ExpressionError, namespace, parse

TIME_LIMIT_S = 10.0  # per example, on a loaded 2-core machine; a bounded expression takes ms
FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# ----------------------------------------------------------------------------- instruments

_AUDIT = {"on": False, "events": [], "parsing": False}
_WATCHED_EVENTS = {"os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                   "os.forkpty", "subprocess.Popen", "pty.spawn", "builtins.breakpoint",
                   "ctypes.dlopen", "ctypes.cdata", "socket.connect", "socket.bind", "open",
                   "import", "compile", "exec", "os.remove", "os.rename", "os.mkdir",
                   "shutil.rmtree", "webbrowser.open", "code.__new__", "function.__new__",
                   "object.__setattr__"}


_WAYS_OUT = {"os", "posix", "subprocess", "shutil", "socket", "ctypes", "pty", "importlib",
             "builtins", "sys", "io", "pickle", "marshal", "code", "pdb", "runpy"}


def _audit(event, args):
    if _AUDIT["on"] and event in _WATCHED_EVENTS and not (
            event == "compile" and _AUDIT["parsing"]):
        _AUDIT["events"].append((event, repr(args)[:200]))


sys.addaudithook(_audit)


class Hang(BaseException):
    """Raised by the timer: a BaseException, so no `except Exception` can swallow it."""


@contextlib.contextmanager
def deadline(seconds: float):
    def ring(signum, frame):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def watched():
    """Tripwires and the audit flag, on for the block; what they saw is in the list yielded."""
    seen = []
    real_import = builtins.__import__

    def tripped(name):
        def wire(*args, **kwargs):
            seen.append((name, repr(args)[:200]))
            raise RuntimeError(f"{name} was called")
        return wire

    real_compile = builtins.compile

    def parse_only(source, filename, mode, flags=0, *args, **kwargs):
        """ast.parse is compile(..., PyCF_ONLY_AST): a tree, never a code object. Any other
        compile is a tripwire."""
        if not flags & ast.PyCF_ONLY_AST:
            seen.append(("builtins.compile", repr(source)[:200]))
            raise RuntimeError("builtins.compile was called")
        _AUDIT["parsing"] = True
        try:
            return real_compile(source, filename, mode, flags, *args, **kwargs)
        finally:
            _AUDIT["parsing"] = False

    def watched_import(name, globals=None, locals=None, fromlist=(), level=0):
        # autodx's lazy `from .x import y` are relative; the parser itself imports the loaded
        # unicodedata for names beyond ASCII. A way out, or anything new, is a tripwire.
        if level == 0 and (name not in sys.modules or name.split(".")[0] in _WAYS_OUT):
            seen.append(("__import__", name))
        return real_import(name, globals, locals, fromlist, level)

    patches = [(os, "system"), (os, "popen"), (subprocess, "Popen"), (builtins, "open"),
               (builtins, "eval"), (builtins, "exec"), (builtins, "breakpoint"),
               (builtins, "input")]
    saved = [(target, name, getattr(target, name)) for target, name in patches]
    saved += [(builtins, "__import__", real_import), (builtins, "compile", real_compile)]
    for target, name in patches:
        setattr(target, name, tripped(f"{target.__name__}.{name}"))
    builtins.__import__, builtins.compile = watched_import, parse_only
    _AUDIT["events"] = []
    _AUDIT["on"] = True
    try:
        yield seen
    finally:
        _AUDIT["on"] = False
        for target, name, value in saved:
            setattr(target, name, value)
        seen += _AUDIT["events"]


LAST: list[ExpressionError] = []
VALUES = [np.float64(0.5), np.array([0.5, -1.5, 2.0]), np.array([[1.0, 2.0], [3.0, -4.0]])]


@contextlib.contextmanager
def quiet():
    """NumPy's warnings off, as `autodx` runs (showing one reads the source file: an open)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _check_message(error: ExpressionError, text: str) -> None:
    message = str(error)
    assert message and message.splitlines()[0].strip(), repr(message)
    assert "Traceback" not in message
    if error.text and error.start is not None:
        assert any(set(line.strip()) == {"^"} for line in message.splitlines()), message
        assert 0 <= error.start <= len(error.text)


def outcome(text: str, value=VALUES[0]) -> str:
    """'refused' (at parse), 'failed' (while evaluating) or 'value'; anything else raises.
    The last ExpressionError is kept in LAST for the assertions that read its problem."""
    LAST.clear()
    started = time.perf_counter()
    with watched() as seen, deadline(TIME_LIMIT_S), quiet():
        try:
            expression = parse(text)
        except ExpressionError as error:
            result = "refused"
            _check_message(error, text)
            LAST.append(error)
        else:
            try:
                expression.function(*[value] * len(expression.variables))
                result = "value"
            except ExpressionError as error:
                result = "failed"
                _check_message(error, text)
                LAST.append(error)
    assert seen == [], f"{text!r} ran something outside the whitelist: {seen}"
    assert time.perf_counter() - started < TIME_LIMIT_S
    return result


def test_the_instruments_can_fail():
    """The tripwires and the audit hook do see what they are for."""
    with watched() as seen:
        with pytest.raises(RuntimeError):
            os.system("true")
        io.FileIO(os.devnull).close()  # not builtins.open: only the audit hook sees it
    assert [s[0] for s in seen] == ["os.system", "open"]
    with pytest.raises(Hang), deadline(0.05):
        while True:
            pass


def _warm_up():
    """Load what evaluation loads lazily, once, before the instruments watch."""
    for text in ["sum(x)", "x @ x", "x[0]", "1/x", "sin(x) > 0", "ones((2, 2)) + x", "sine(x)",
                 "é + ｘ"]:
        with contextlib.suppress(ExpressionError):
            expression = parse(text)
            expression.function(*[VALUES[1]] * len(expression.variables))
    with contextlib.suppress(ExpressionError):
        parse("x +")


_warm_up()

# ----------------------------------------------------------------------------- the escapes

ESCAPES = [
    "().__class__.__bases__[0].__subclasses__()",
    "().__class__.__base__.__subclasses__()[0]",
    "[c for c in ()]",
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen']",
    "lambda: 0",
    "(lambda: 0)()",
    "x.__class__",
    "x.__class__.__init__.__globals__",
    "getattr",
    "getattr(x, '__class__')",
    "eval",
    "eval('1')",
    "exec('import os')",
    "open",
    "open('/etc/passwd')",
    "globals()",
    "globals()['__builtins__']",
    "locals()",
    "vars()",
    "breakpoint()",
    "__import__('os').system('echo hi')",
    "__builtins__",
    "__import__",
    "x._private",
    "type(x)",
    "input()",
    "print(1)",
    "help()",
    "exit()",
    "compile('1', 'f', 'eval')",
    "sin.__globals__",
    "sin.__call__(x)",
    "stack.__module__",
    "(x := 1)",
    "f'{x}'",
    "f'{x.__class__}'",
    "'a' * 10**9",
    "b'abc'",
    "'%s' % x",
    "sum(*[x])",
    "sum(x, **{'axis': 0})",
    "sum(x, out=x)",
    "sum(x, dtype=float)",
    "stack([x], casting='unsafe')",
    "x if x else x",
    "x and x",
    "not x",
    "{x: 1}",
    "{x}",
    "x[sin]",
    "sin(x)[0]",
    "(x + 1)[0]",
    "pi[0]",
    "x[x]",
    "sin",
    "vectorize(sin)",
    "frompyfunc(sin, 1, 1)",
    "load('f.npy')",
    "save('f', x)",
    "fromfile('f')",
    "genfromtxt('f')",
    "fft.fft(x)",
    "linalg.inv(x)",
    "9**9**9",
    "2**64",
    "10**19",
    "10**18 * 10",
    "(2**62) * 4",
    "1" * 5000,
    "1e308**2",
    "1/0",
    "0**-1",
    "x is x",
    "x in x",
    "x << 1",
    "~x",
    "x & x",
    "None",
    "...",
    "import os",
    "x; import os",
    "x\nimport os",
    "",
    "   ",
    "#",
    "\x00",
    "x\x1b[2J",
    "(" * 10_000 + ")" * 10_000,
    "(" * 4999 + "x" + ")" * 4999,
    "-" * 9999 + "x",
    "[" * 4999 + "]" * 4999,
    "sin(" * 1600 + "x" + ")" * 1600,
    "x**" * 3000 + "x",
    "x+" * 4999 + "x",
    "'" + "a" * 100_000 + "'",
    "x" * 1_000_000,
    "x + " * 30_000 + "x",
]

HEAVY = [  # allowed syntax whose size or work is refused before it is spent
    "ones((10**5, 10**5))",
    "zeros((10**6, 10**6, 10**6))",
    "ones(10**7)",
    "arange(1e12)",
    "arange(0, 1, 1e-12)",
    "linspace(0, 1, 10**12)",
    "eye(10**6)",
    "identity(10**5)",
    "tri(10**5)",
    "diag(ones(10**6))",
    "tile(ones(10**6), 10**6)",
    "repeat(ones(10**6), 10**12)",
    "outer(ones(10**6), ones(10**6))",
    "kron(ones(10**4), ones(10**4))",
    "ones(10**6) + reshape(ones(10**6), (10**6, 1))",
    "reshape(ones(10**4), (10**4, 1)) @ reshape(ones(10**4), (1, 10**4))",
    "reshape(ones(10**6), (1000, 1000)) @ reshape(ones(10**6), (1000, 1000))",
    "roots(ones(10**4))",
    "polyval(ones(10**6), ones(10**6))",
    "convolve(ones(10**6), ones(10**6))",
    "vander(ones(10**4))",
    "pad(ones(10), 10**12)",
    "broadcast_to(x, (10**6, 10**6))",
    "full((10**6, 10**6), 1)",
    "meshgrid(ones(10**4), ones(10**4))",
    "ones(2**62)",
    "ones(inf)",
    "tril_indices(10**6)",
]


@pytest.mark.parametrize("text", ESCAPES, ids=lambda t: repr(t[:40]))
def test_classic_escapes_are_refused(text):
    assert outcome(text) == "refused", text


@pytest.mark.parametrize("text", HEAVY, ids=lambda t: repr(t[:40]))
def test_huge_work_is_refused_before_it_is_spent(text):
    assert outcome(text) in ("refused", "failed")


def test_refusals_say_where_and_what():
    with pytest.raises(ExpressionError) as info:
        parse("1 + ().__class__")
    lines = str(info.value).splitlines()
    assert lines[0] == "attribute access (.__class__) is not allowed"
    assert lines[1:3] == ["  1 + ().__class__", "      ^^^^^^^^^^^^"]
    assert lines[3].startswith("allowed: numbers, variables")
    with pytest.raises(ExpressionError) as info:
        parse("9**9**9")
    assert info.value.start == 0 and info.value.end == 7 and "9.0**387420489" in str(info.value)
    with pytest.raises(ExpressionError, match="long"):
        parse("x" * (MAX_LENGTH + 1))
    with pytest.raises(ExpressionError) as info:
        parse("x + yy", variables=["x", "y"])
    assert str(info.value).startswith(
        "unknown name 'yy'; did you mean y?; the variables are x, y\n  x + yy\n      ^^\n")
    with pytest.raises(ExpressionError, match="nested more than 100 levels"):
        parse("-(" * 101 + "x" + ")" * 101)


def test_variables_order_and_long_chains():
    assert parse("y * x + b").variables == ("b", "x", "y")  # alphabetical by default
    assert parse("y * x", variables=["y", "x", "z"]).function(2.0, 3.0, 0.0) == 6.0
    chain = parse("+".join(["x"] * 2000))  # a chain is a loop, not 2000 levels
    assert chain.function(1.5) == 3000.0 and ad.grad(chain.function)(1.5) == 2000.0


def test_allowed_names_come_from_autodx_numpy():
    space = namespace()
    assert {"sin", "cos", "exp", "log", "tanh", "sqrt", "abs", "maximum", "sum", "stack",
            "dot", "where"} <= set(space.functions)
    assert {"pi", "e", "inf", "nan"} <= set(space.constants)
    assert set(space.functions) <= set(ad.numpy.__all__)
    assert not {"fft", "linalg", "float64", "dtype", "ndarray", "vectorize", "frompyfunc",
                "load", "save", "fromfile", "genfromtxt"} & set(space.functions)
    assert not [n for n in space.functions if n.startswith("_")]


@pytest.mark.parametrize("text, value", [
    ("3*x**2", 12.0), ("sin(pi/2) * x", 2.0), ("where(x > 1, x, -x)", 2.0),
    ("sum(stack([x, 2*x]), axis=0)", 6.0), ("maximum(x, 3)", 3.0), ("0 < x < 5", True),
    ("2**62 // 2**61 + x", 4.0), ("(1 + 1j) * x", 2 + 2j),
])
def test_allowed_expressions_evaluate(text, value):
    assert parse(text).function(2.0) == value


def test_functions_are_differentiable():
    expression = parse("[x**2 + y**2, x - y]")
    assert expression.variables == ("x", "y")
    np.testing.assert_array_equal(
        ad.jacobian(expression.function, argnums=(0, 1), matrix=True)(2.0, 1.0),
        [[4.0, 2.0], [1.0, -1.0]])
    assert ad.grad(parse("3*x**2").function)(2.0) == 12.0


# ----------------------------------------------------------------------------- random input

@FUZZ
@given(st.text(max_size=300))
def test_random_strings(text):
    outcome(text)


TOKENS = [
    "x", "y", "z", "sin", "cos", "exp", "log", "sum", "stack", "where", "maximum", "ones",
    "zeros", "arange", "eye", "reshape", "tile", "dot", "pi", "e", "inf", "nan", "__class__",
    "__import__", "__bases__", "__subclasses__", "__globals__", "__builtins__", "eval", "exec",
    "open", "getattr", "globals", "lambda", "for", "in", "if", "else", "not", "and", "or", "is",
    ":=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", "+", "-", "*", "/", "//", "%", "**",
    "@", "<", "<=", "==", "!=", "~", "&", "|", "^", "<<", "0", "1", "2", "-1", "9", "10**18",
    "1e308", "1j", "0.5", "'os'", '"a"', "f'{x}'", "axis=0", "keepdims=True", "out=x", "...",
    "None", "True", "yield", "await", "\\", "#", "\n", ";",
]


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=40), st.sampled_from(["", " "]),
       st.sampled_from(VALUES))
def test_token_soups(tokens, separator, value):
    outcome(separator.join(tokens), value)


_FUNCTIONS = sorted(namespace().functions)
_HOSTILE_CALLEES = ["eval", "open", "getattr", "__import__", "vectorize", "exec", "globals",
                    "breakpoint", "type", "x", "pi"]
_NAMES = ["x", "y", "z", "pi", "e", "inf", "__class__", "__builtins__", "eval", "sin", "True"]


def _numbers():
    return st.one_of(
        st.integers(-3, 10).map(str), st.integers(-2**70, 2**70).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.sampled_from(["1j", "0.5", "1e308", "1e-308", "0", "-0.0"]))


def _allowed(children):
    """Nodes on the whitelist: operators, comparisons, calls by name, displays, indexing."""
    arguments = st.lists(children, max_size=3)
    keywords = st.lists(st.tuples(st.sampled_from(["axis", "keepdims", "k", "n"]),
                                  st.sampled_from(["0", "-1", "1", "True"])).map("=".join),
                        max_size=1)
    index = st.sampled_from(["0", "-1", "1:", "::-1", ":2", "0, 0", "10**18"])
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "@"]),
                  children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "+"]), children).map("".join),
        st.tuples(st.sampled_from(_FUNCTIONS), arguments, keywords).map(
            lambda t: f"{t[0]}({', '.join(t[1] + t[2])})"),
        st.tuples(st.sampled_from(["x", "y"]), index).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.lists(children, max_size=3).map(lambda es: f"[{', '.join(es)}]"),
        st.lists(children, min_size=1, max_size=3).map(lambda es: f"({', '.join(es)},)"),
        st.tuples(children, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), children,
                  st.sampled_from(["", " < 1"])).map(lambda t: f"({t[0]} {t[1]} {t[2]}{t[3]})"),
    )


def _forbidden(children):
    """Nodes off the whitelist, or whitelisted nodes used the forbidden way."""
    return st.one_of(
        st.tuples(children, st.sampled_from(["<<", "&", "|", "and", "or", "is", "in"]),
                  children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["not ", "~"]), children).map("".join),
        st.tuples(st.sampled_from(_HOSTILE_CALLEES), st.lists(children, max_size=2)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(st.sampled_from(_FUNCTIONS), children,
                  st.sampled_from(["out", "dtype", "order", "casting"])).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]}={t[1]})"),
        st.tuples(children, st.sampled_from(["__class__", "real", "T", "shape", "sum"])).map(
            lambda t: f"{t[0]}.{t[1]}"),
        st.tuples(children, st.sampled_from(["0", "x", "1:"])).map(lambda t: f"{t[0]}[{t[1]}]"),
        children.map(lambda c: f"(lambda: {c})"),
        st.tuples(children, children).map(lambda t: f"[{t[0]} for x in {t[1]}]"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        children.map(lambda c: f"sum(*{c})"),
        children.map(lambda c: f"sum(**{c})"),
        children.map(lambda c: f"(x := {c})"),
        children.map(lambda c: f"f'{{{c}}}'"),
        children.map(lambda c: f"{{{c}: 1}}"),
    )


_LEAVES = st.one_of(_numbers(), st.sampled_from(["x", "y", "z", "pi", "e", "inf", "True"]))
_HOSTILE_LEAVES = st.sampled_from(["__class__", "__builtins__", "eval", "sin", "'s'", "None",
                                   "...", "_x", "open"])
ALLOWED_TREES = st.recursive(_LEAVES, _allowed, max_leaves=10)
# mostly whitelisted, so a forbidden node sits deep inside otherwise good expressions
MIXED_TREES = st.recursive(_LEAVES | _HOSTILE_LEAVES,
                           lambda c: _allowed(c) | _allowed(c) | _allowed(c) | _forbidden(c),
                           max_leaves=10)


@FUZZ
@given(ALLOWED_TREES, st.sampled_from(VALUES))
def test_generated_allowed_trees(text, value):
    """Whitelisted nodes are refused only for a bound (a constant part that fails or is too
    large, an index that is not a literal): never for what they are."""
    if outcome(text, value) == "refused":
        problem = LAST[0].problem
        assert any(bound in problem for bound in BOUNDS), (text, problem)


BOUNDS = ("failed", "too large", "an index must be", "nested")


@FUZZ
@given(MIXED_TREES, st.sampled_from(VALUES))
def test_generated_mixed_trees(text, value):
    result = outcome(text, value)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:  # nested f-strings with the same quotes, say: not Python at all
        assert result == "refused", text
        return
    forbidden = (ast.Attribute, ast.Lambda, ast.comprehension, ast.Starred, ast.NamedExpr,
                 ast.JoinedStr, ast.BoolOp, ast.IfExp, ast.Dict)
    if any(isinstance(n, forbidden) for n in ast.walk(tree)):
        assert result == "refused", text
