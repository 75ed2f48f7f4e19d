"""The `autodx` command line: the printed values, the JSON, the errors (message, caret, exit
status 2, no traceback), and that a hostile expression runs nothing."""

import builtins
import importlib
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from autodx import cli
from autodx.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, ""), err
    return out


def fails(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "", (code, out)
    assert err and "Traceback" not in err
    return err


def caret(err: str, text: str) -> tuple[int, int]:
    """(column in text, length) of the caret line under the line that shows `text`."""
    lines = err.splitlines()
    i = next(i for i, line in enumerate(lines) if line == f"  {text}")
    marks = lines[i + 1][2:]
    start = len(marks) - len(marks.lstrip(" "))
    assert set(marks[start:]) == {"^"}
    return start, len(marks) - start


# ----------------------------------------------------------------------------- values

@pytest.mark.parametrize("argv, printed", [
    (["grad", "3*x**2", "--at", "x=2"], "12"),
    (["grad", "2*x**2 + 3*y", "--at", "x=2,y=1.5"], "(8, 3)"),
    (["grad", "2*x**2 + 3*y", "--at", "x=2", "--at", "y=1.5"], "(8, 3)"),
    (["grad", "2*x**2 + 3*y", "--at", "y=1.5,x=2"], "(3, 8)"),  # --at order is the order
    (["grad", "2*x**2 + 3*y", "--at", "x=2,y=1.5", "--wrt", "y"], "3"),
    (["jacobian", "[x**2 + y**2, x - y]", "--at", "x=2,y=1"], "[[4, 2], [1, -1]]"),
    (["hessian", "x**2 + y**2", "--at", "x=2,y=1"], "[[2, 0], [0, 2]]"),
    (["hessian", "x**2 * y", "--at", "x=2,y=1"], "[[2, 4], [4, 0]]"),
    (["grad", "sum(x**2)", "--at", "x=[1, 2, 3]"], "[2, 4, 6]"),
    (["grad", "sin(x)", "--at", "x=pi/3"], repr(float(np.cos(np.pi / 3)))),
    (["value", "sin(pi/2) + x", "--at", "x=1"], "2"),
    (["value", "x", "--at", "x=0.1"], "0.1"),
    (["value", "1/3"], "0.3333333333333333"),
    (["value", "-x**2", "--at", "x=3"], "-9"),  # a leading minus is not an option
    (["value", "-h*x", "--at", "h=2,x=3"], "-6"),  # nor -h
    (["value", "x/0", "--at", "x=1"], "inf"),
    (["value", "where(x > 0, x, -x)", "--at", "x=[-2, 3]"], "[2, 3]"),
    (["value", "x[1:]", "--at", "x=[1, 2, 3]"], "[2, 3]"),
    (["value", "1e20 + 0*x", "--at", "x=1"], "1e+20"),
    (["value", "-0.0*x", "--at", "x=1"], "0"),
    (["explain", "3*x**2"], "6*x"),
    (["explain", "3*x**2", "--at", "x=2"], "6*x\nat x = 2: 12"),
    (["explain", "2*x**2 + 3*y"], "(4*x, 3)"),
    (["explain", "[x**2 + y**2, x - y]"], "[[2*x, 2*y], [1, -1]]"),
    (["explain", "x**2 + y**2", "--order", "2"], "[[2, 0], [0, 2]]"),
])
def test_printed_values(capsys, argv, printed):
    assert ok(capsys, *argv) == printed + "\n"


def test_json(capsys):
    record = json.loads(ok(capsys, "grad", "2*x**2 + 3*y", "--at", "x=2,y=1.5", "--json"))
    assert record == {"command": "grad", "expression": "2*x**2 + 3*y", "variables": ["x", "y"],
                      "at": {"x": 2, "y": 1.5}, "value": [8, 3]}
    record = json.loads(ok(capsys, "jacobian", "[x**2 + y**2, x - y]", "--at", "x=2,y=1",
                           "--json"))
    assert record["value"] == [[4, 2], [1, -1]] and record["command"] == "jacobian"
    record = json.loads(ok(capsys, "explain", "3*x**2", "--at", "x=2", "--json"))
    assert record == {"command": "explain", "expression": "3*x**2", "variables": ["x"],
                      "at": {"x": 2}, "order": 1, "formula": "6*x", "value": 12}
    record = json.loads(ok(capsys, "explain", "3*x**2", "--json"))
    assert record["formula"] == "6*x" and "value" not in record and record["at"] == {}
    record = json.loads(ok(capsys, "value", "[x/0, -x/0, 0*x/0]", "--at", "x=1", "--json"))
    assert record["value"] == ["inf", "-inf", "nan"]  # JSON has no inf or nan


def test_numbers_print_as_written():
    assert cli.format_value(12.0) == "12"
    assert cli.format_value((np.float64(8.0), np.float64(3.0))) == "(8, 3)"
    assert cli.format_value(np.array([[4.0, 2.0], [1.0, -1.0]])) == "[[4, 2], [1, -1]]"
    assert cli.format_value(0.1 + 0.2) == "0.30000000000000004"  # repr precision
    assert cli.format_value(-0.0) == "0"
    assert cli.format_value(complex(1.0, 2.0)) == "(1+2j)"
    assert cli.format_value(complex(3.0, 0.0)) == "3"
    assert cli._json(cli.plain_value(complex(1.5, -2.0))) == {"real": 1.5, "imag": -2}
    assert cli.format_value(True) == "True"


# ----------------------------------------------------------------------------- errors

def test_refused_expression_shows_a_caret(capsys):
    err = fails(capsys, "grad", "x + y.real", "--at", "x=1,y=2")
    assert err.startswith("autodx grad: attribute access (.real) is not allowed\n")
    assert caret(err, "x + y.real") == (4, 6)
    assert "allowed: numbers, variables" in err


def test_unknown_function_is_suggested(capsys):
    err = fails(capsys, "value", "2 * sine(x)", "--at", "x=1")
    assert "unknown function 'sine'; did you mean sin" in err
    assert caret(err, "2 * sine(x)") == (4, 4)


def test_syntax_error_points_at_the_place(capsys):
    err = fails(capsys, "value", "x $ 2", "--at", "x=1")
    assert "not a valid expression" in err and caret(err, "x $ 2") == (2, 1)


def test_runtime_failure_points_at_the_call(capsys):
    err = fails(capsys, "value", "1 + maximum(x)", "--at", "x=1")
    assert "maximum(...): missing a required argument: 'y'" in err
    assert caret(err, "1 + maximum(x)") == (4, 10)


@pytest.mark.parametrize("argv, message", [
    (["grad", "x*y", "--at", "x=1"], "no value for y"),
    (["grad", "pii*x", "--at", "x=1"], "no value for pii (did you mean pi?)"),
    (["grad", "x", "--at", "x"], "--at x: expected NAME=VALUE"),
    (["grad", "x", "--at", "x=1,x=2"], "x is given twice"),
    (["grad", "x", "--at", "x=(1"], "--at x=(1: this is not a valid expression"),
    (["grad", "x", "--at", "x=open('f')"], "open is a Python builtin"),
    (["grad", "sin", "--at", "sin=1"], "'sin' cannot be a variable: sin is an ad.numpy function"),
    (["grad", "x", "--at", "_x=1"], "names starting with an underscore"),
    (["grad", "[x, x]", "--at", "x=1"], "use autodx jacobian"),
    (["grad", "2"], "has no variables"),
    (["grad", "x", "--at", "x=1", "--wrt", "z"], "--wrt z: z not among the variables x"),
    (["hessian", "[x, x]", "--at", "x=1"], "hessian needs an expression whose value is one"),
    (["plot", "x*y*z", "-o", "never.png"], "fix the others with --at"),
    (["plot", "x", "--range", "3:-3", "-o", "never.png"], "LO < HI"),
    (["explain", "x", "--order", "-1"], "--order -1"),
    (["grad"], "the following arguments are required: expression"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_mistakes_exit_2_with_one_message(capsys, argv, message):
    assert message in fails(capsys, *argv)


def test_no_command_prints_help(capsys):
    code, out, _ = run(capsys)
    assert code == 2 and "grad" in out and "demo" in out


def test_missing_plot_extra_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    err = fails(capsys, "plot", "x**2", "-o", str(tmp_path / "f.png"))
    assert err == "autodx plot: ad.plot needs matplotlib: pip install 'autodx[plot]'\n"


# ----------------------------------------------------------------------------- nothing runs

ATTACKS = [
    "__import__('os').system('touch {sentinel}')",
    "open('{sentinel}', 'w')",
    "().__class__.__bases__[0].__subclasses__()",
    "eval(\"__import__('os').system('touch {sentinel}')\")",
    "x.__class__.__init__.__globals__['os'].system('touch {sentinel}')",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "(lambda: __import__('os').system('touch {sentinel}'))()",
    "sum(x, **{{'out': open('{sentinel}', 'w')}})",
    "f'{{__import__(\"os\").system(\"touch {sentinel}\")}}'",
    "breakpoint()",
    "globals()['__builtins__']",
    "getattr(x, '__class__')",
]


@pytest.fixture
def tripwires(monkeypatch):
    """Record (and refuse) every way out: a process, an import of os, a file opened, eval,
    exec. Calls from the standard library (the import machinery runs exec, argparse imports
    shutil) pass: what must never happen is such a call on the expression's behalf."""
    calls = []
    real_import = builtins.__import__

    def from_stdlib() -> bool:
        caller = sys._getframe(2).f_globals.get("__name__", "").lstrip("_").split(".")[0]
        return caller in sys.stdlib_module_names or caller == "frozen_importlib"

    def tripped(name, real):
        def wire(*args, **kwargs):
            if from_stdlib():
                return real(*args, **kwargs)
            calls.append((name, args))
            raise RuntimeError(f"{name} was called")
        return wire

    def watched_import(name, globals=None, locals=None, fromlist=(), level=0):
        caller = sys._getframe(1).f_globals.get("__name__", "").split(".")[0]
        if level == 0 and name.split(".")[0] in {"os", "subprocess", "shutil", "socket",
                                                 "ctypes", "pty", "importlib", "builtins"} and (
                caller not in sys.stdlib_module_names):
            calls.append(("__import__", name, caller))
        return real_import(name, globals, locals, fromlist, level)

    for target, name in [(os, "system"), (os, "popen"), (subprocess, "Popen"),
                         (builtins, "open"), (builtins, "eval"), (builtins, "exec"),
                         (builtins, "compile"), (builtins, "breakpoint")]:
        real = getattr(target, name)
        monkeypatch.setattr(target, name, tripped(f"{target.__name__}.{name}", real))
    monkeypatch.setattr(builtins, "__import__", watched_import)
    return calls


@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_expressions_run_nothing(capsys, tmp_path, tripwires, attack):
    sentinel = tmp_path / "SENTINEL"
    text = attack.format(sentinel=sentinel)
    err = fails(capsys, "grad", text, "--at", "x=1")
    assert "not allowed" in err.splitlines()[0] or "Python builtin" in err, err
    assert tripwires == [] and not sentinel.exists()


def test_the_issue_example_refuses_before_anything_runs(capsys, tripwires):
    err = fails(capsys, "grad", "__import__('os').system('echo hi')", "--at", "x=1")
    assert caret(err, "__import__('os').system('echo hi')") == (0, len("__import__"))
    assert tripwires == []


def _entry_point() -> list[str]:
    script = Path(sys.executable).with_name("autodx")
    return [str(script)] if script.exists() else [sys.executable, "-m", "autodx"]


def test_installed_command(tmp_path):
    """The real entry point: a value on stdout, and a hostile expression refused with status 2,
    its command never run."""
    good = subprocess.run([*_entry_point(), "grad", "3*x**2", "--at", "x=2"],
                          capture_output=True, text=True, timeout=120)
    assert (good.returncode, good.stdout, good.stderr) == (0, "12\n", "")
    sentinel = tmp_path / "SENTINEL"
    bad = subprocess.run([*_entry_point(), "grad",
                          f"__import__('os').system('echo hi > {sentinel}')", "--at", "x=1"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr
    assert "names starting with an underscore (__import__)" in bad.stderr
    assert not sentinel.exists()


# ----------------------------------------------------------------------------- plot

def analytic(x):
    f = np.sin(x) * x**2
    d1 = np.cos(x) * x**2 + 2 * x * np.sin(x)
    d2 = (2 - x**2) * np.sin(x) + 4 * x * np.cos(x)
    return f, d1, d2


@pytest.fixture
def drawn(monkeypatch):
    """The figures `autodx plot` makes, kept to check what was drawn."""
    module = importlib.import_module("autodx.plot")  # ad.plot is the function, not the module
    figures, real = [], module.plot

    def keep(*args, **kwargs):
        figures.append(real(*args, **kwargs))
        return figures[-1]

    monkeypatch.setattr(module, "plot", keep)
    return figures


def test_plot_writes_the_three_curves(capsys, tmp_path, drawn):
    out = tmp_path / "f.png"
    assert ok(capsys, "plot", "sin(x)*x**2", "--range", "-3:3", "--order", "2", "-o",
              str(out)) == f"wrote {out}\n"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (fig,) = drawn
    data = fig.autodx_data
    assert data["x"][0] == -3 and data["x"][-1] == 3
    for key, expected in zip(["f", "f′", "f″"], analytic(data["x"])):
        np.testing.assert_allclose(data[key], expected, rtol=1e-12, atol=1e-12)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["f", "f′", "f″"]
    assert fig.axes[0].get_title() == "sin(x)*x**2 and its derivatives"


def test_plot_two_variables_with_a_fixed_one(capsys, tmp_path, drawn):
    out = tmp_path / "g.png"
    record = json.loads(ok(capsys, "plot", "x**2 + a*y**2", "--at", "a=2", "--range", "-2:2",
                           "-o", str(out), "--json"))
    assert record == {"command": "plot", "expression": "x**2 + a*y**2",
                      "variables": ["x", "y", "a"], "at": {"a": 2}, "range": [-2, 2],
                      "order": 2, "output": str(out)}
    data = drawn[0].autodx_data
    np.testing.assert_allclose(data["f"], data["x"] ** 2 + 2 * data["y"] ** 2, rtol=1e-12)
    np.testing.assert_allclose(data["df/dy"], 4 * data["quiver_y"], rtol=1e-12, atol=1e-12)
    assert out.exists()


class FakeTqdm:
    made: list = []

    def __init__(self, **kwargs):
        self.kwargs, self.n, self.closed = kwargs, 0, False
        FakeTqdm.made.append(self)

    def update(self, k):
        self.n += k

    def close(self):
        self.closed = True


def test_plot_progress_bar_only_past_a_delay(capsys, tmp_path, monkeypatch):
    FakeTqdm.made = []
    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeTqdm))
    ok(capsys, "plot", "sin(x)*x**2", "-o", str(tmp_path / "f.png"))
    (bar,) = FakeTqdm.made
    assert bar.kwargs["delay"] == cli.PROGRESS_DELAY_S > 0  # quick plots never show it
    assert bar.kwargs["total"] == bar.n == 4  # f, f', f'' and the file
    assert bar.kwargs["disable"] is None and bar.closed  # None: off when not a terminal


def test_plot_without_tqdm(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    ok(capsys, "plot", "x**3", "--order", "1", "-o", str(tmp_path / "f.png"))
    assert (tmp_path / "f.png").exists()


def test_value_commands_print_no_progress(capsys, monkeypatch):
    FakeTqdm.made = []
    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeTqdm))
    ok(capsys, "hessian", "x**2 + y**2", "--at", "x=2,y=1")
    assert FakeTqdm.made == []
