"""Differential fuzzing: random straight-line programs (fuzz_programs.py) run by autodx, by JAX
(x64) and by PyTorch (float64), compared on the value (also against NumPy), grad,
value_and_grad, jvp, linearize, vjp, vmap (batch axes leading, last or None), vmap-of-grad,
jacfwd, jacrev, hessian (also as jacrev(jacrev) and jacfwd(jacfwd)), and the torch face:
`.backward()`/`.grad`, a Hessian-vector product by `autograd.grad(create_graph=True)` and
`.backward()`, `autograd.functional.jacobian` and `.hvp`. PyTorch's references are autograd,
`.backward()` and torch.func's transforms.

Each check is one line of Python (`CHECKS`), evaluated over the program as printed: a failing
program is shown in the assertion message as runnable Python, one snippet for autodx and one
for JAX, each ending in the failing checks' lines.

Budget: the examples are derandomized (the same programs every run) and bounded so the file
runs in about two minutes on the 2-core CI machine. For a long local campaign,
`AUTODX_FUZZ_EXAMPLES=N` gives every JAX family test N examples and every torch-only one 10 N;
`AUTODX_FUZZ_SEED=S` draws other programs than CI's (seeded by S, not derandomized);
`AUTODX_FUZZ_REPORT=path` writes the counts as JSON. The summary line ("fuzz: P programs x C
checks") is written when the module finishes.

JAX computes its references of a program in one `jax.jit` call: measured on this machine,
eager JAX takes about 1 s for the gradient of a five-op program (every primitive is compiled
on first use at each new shape), jit about 0.1 s a transform, and one jitted call of all of
them about 0.5 s. `AUTODX_FUZZ_JAX_EAGER=1` runs them eagerly instead.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import traceback
import warnings
from dataclasses import dataclass

import hypothesis.strategies as st
import jax
import numpy as np
import pytest
import torch
import torch.func as tf
from hypothesis import HealthCheck, Phase, given, seed, settings

import autodx as ad
import autodx.numpy as anp
from fuzz_programs import AUTODX, AUTODX_HELPERS, FAMILIES, JAX, OPS, Program, programs

jax.config.update("jax_enable_x64", True)

# torch.func's helpers call torch.jit.script, which warns in torch 2.13
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")

RTOL = 1e-9  # relative to each entry and to the largest entry of the array compared
ATOL = 1e-12
JAC_MAX = 600  # output x input elements, for the Jacobians
HESS_MAX = 12  # input elements, for the Hessians

_ENV_EXAMPLES = int(os.environ.get("AUTODX_FUZZ_EXAMPLES", "0"))
JAX_EXAMPLES = _ENV_EXAMPLES or 6  # per family, against JAX (and PyTorch, NumPy)
TORCH_EXAMPLES = 10 * _ENV_EXAMPLES or 60  # per family, against PyTorch and NumPy only
EACH_OP_EXAMPLES = 3  # programs that start with a given op, in CI (every op of the table)
JAX_EAGER = os.environ.get("AUTODX_FUZZ_JAX_EAGER") == "1"
_SEED = os.environ.get("AUTODX_FUZZ_SEED")  # a campaign of other programs than CI's

STATS: collections.Counter = collections.Counter()

SETTINGS = dict(deadline=None, derandomize=_SEED is None, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])


def _seeded(test):
    return test if _SEED is None else seed(int(_SEED))(test)


# ----------------------------------------------------------------------------- the checks

@dataclass(frozen=True)
class Check:
    """One autodx call (a source line over the names `Program.to_source` defines; {args},
    {nums}, {ts}, {bxs}, {in_axes}, {out_axes} are filled in) and the reference it must
    equal; `torch_face`: the result may hold Tensors (compared as their NumPy values)."""
    line: str
    reference: str
    torch_face: bool = False
    size: str = ""  # "jac" or "hess": only for programs small enough


CHECKS = {
    "value": Check("f({args})", "value"),
    "grad": Check("ad.grad(loss, argnums={nums})({args})", "grad"),
    "value_and_grad": Check("ad.value_and_grad(loss, argnums={nums})({args})", "value_and_grad"),
    "jvp": Check("ad.jvp(f, ({args},), ({ts},))", "jvp"),
    "linearize": Check("ad.linearize(f, {args})[1]({ts})", "jvp_tangent"),
    "vjp": Check("ad.vjp(f, {args})[1](ct)", "vjp"),
    "vmap": Check("ad.vmap(f, in_axes={in_axes}, out_axes={out_axes})({bxs})", "vmap"),
    "vmap_grad": Check("ad.vmap(ad.grad(loss, argnums={nums}), in_axes={in_axes})({bxs})",
                       "vmap_grad"),
    "jacfwd": Check("ad.jacfwd(f, argnums={nums})({args})", "jacobian", size="jac"),
    "jacrev": Check("ad.jacrev(f, argnums={nums})({args})", "jacobian", size="jac"),
    "hessian": Check("ad.hessian(loss, argnums={nums})({args})", "hessian", size="hess"),
    "hessian rev-over-rev": Check("ad.jacrev(ad.jacrev(loss, argnums={nums}), argnums={nums})"
                                  "({args})", "hessian", size="hess"),
    "hessian fwd-over-fwd": Check("ad.jacfwd(ad.jacfwd(loss, argnums={nums}), argnums={nums})"
                                  "({args})", "hessian", size="hess"),
    "tensor backward": Check("tensor_face({args})", "tensor", torch_face=True),
    "tensor hvp": Check("tensor_hvp(({args},), ({ts},))", "hvp", torch_face=True),
    "functional.jacobian": Check("ad.autograd.functional.jacobian(f, ({args},))", "jacobian",
                                 torch_face=True, size="jac"),
    "functional.hvp": Check("ad.autograd.functional.hvp(loss, ({args},), ({ts},))[1]", "hvp",
                            torch_face=True),
}

# JAX's reference lines (jitted together; "tensor" is PyTorch's alone: its unused inputs
# have `.grad` None, where JAX has zeros)
JAX_LINES = {
    "value": "f({args})",
    "grad": "jax.grad(loss, argnums={nums})({args})",
    "value_and_grad": "jax.value_and_grad(loss, argnums={nums})({args})",
    "jvp": "jax.jvp(f, ({args},), ({ts},))",
    "jvp_tangent": "jax.jvp(f, ({args},), ({ts},))[1]",
    "vjp": "jax.vjp(f, {args})[1](ct)",
    "vmap": "jax.vmap(f, in_axes={in_axes}, out_axes={out_axes})({bxs})",
    "vmap_grad": "jax.vmap(jax.grad(loss, argnums={nums}), in_axes={in_axes})({bxs})",
    "jacobian": "jax.jacrev(f, argnums={nums})({args})",
    "hessian": "jax.hessian(loss, argnums={nums})({args})",
    "hvp": "jax.jvp(jax.grad(loss, argnums={nums}), ({args},), ({ts},))[1]",
}


def _fill(p: Program, line: str) -> str:
    nums = tuple(range(len(p.inputs)))
    return line.format(args=", ".join(p.names), nums=nums, in_axes=p.in_axes,
                       out_axes=p.out_axes, ts=", ".join(f"t{i}" for i in nums),
                       bxs=", ".join(f"bx{i}" for i in nums))


def checks_of(p: Program) -> dict[str, Check]:
    n_in, n_out = p.sizes()
    small = {"": True, "jac": n_in * n_out <= JAC_MAX, "hess": n_in <= HESS_MAX}
    return {name: c for name, c in CHECKS.items() if small[c.size]}


def _autodx_env(p: Program) -> dict:
    env = dict(p.data(), ad=ad, anp=anp, np=np, f=p.build(AUTODX), loss=p.loss(AUTODX))
    exec(AUTODX_HELPERS, env)
    return env


def _jax_references(p: Program) -> dict:
    """JAX's reference of every check of `p`, in one call (jitted unless JAX_EAGER)."""
    keys = {c.reference for c in checks_of(p).values()} & set(JAX_LINES)
    code = {k: compile(_fill(p, JAX_LINES[k]), f"<jax {k}>", "eval") for k in keys}
    f, loss = p.build(JAX), p.loss(JAX)

    def run(data):
        env = dict(data, jax=jax, f=f, loss=loss)
        return {k: eval(c, env) for k, c in code.items()}

    out = (run if JAX_EAGER else jax.jit(run))(p.data())
    return jax.tree.map(np.asarray, out)


def _torch_references(p: Program) -> dict:
    """PyTorch's reference of every check of `p`: autograd for the value, gradient, Tensor
    face and Hessian-vector product, torch.func for the transforms. A transform torch.func
    cannot run is left out (and counted)."""
    both = p.build_torch()
    f, loss = (lambda *a: both(*a)[0]), (lambda *a: both(*a)[1])
    nums = tuple(range(len(p.inputs)))
    data = {k: torch.as_tensor(v) for k, v in p.data().items()}
    xs = [data[n] for n in p.names]
    ts = [data[f"t{i}"] for i in nums]
    bxs = [data[f"bx{i}"] for i in nums]
    calls = {
        "hvp": lambda: _torch_hvp(loss, p.inputs, ts),
        "value": lambda: f(*xs),
        "grad": lambda: tf.grad(loss, argnums=nums)(*xs),
        "value_and_grad": lambda: tf.grad_and_value(loss, argnums=nums)(*xs)[::-1],
        "jvp": lambda: tf.jvp(f, tuple(xs), tuple(ts)),
        "jvp_tangent": lambda: tf.jvp(f, tuple(xs), tuple(ts))[1],
        "vjp": lambda: tf.vjp(f, *xs)[1](data["ct"]),
        "vmap": lambda: tf.vmap(_depending_on_x0(f), in_dims=p.in_axes,
                                out_dims=p.out_axes)(*bxs),
        "vmap_grad": lambda: tf.vmap(tf.grad(loss, argnums=nums), in_dims=p.in_axes)(*bxs),
        "jacobian": lambda: tf.jacrev(f, argnums=nums)(*xs),
        "hessian": lambda: tf.hessian(loss, argnums=nums)(*xs),
    }
    out = {"tensor": _torch_backward(loss, p.inputs)}  # fails loudly: the program is wrong
    for key in {c.reference for c in checks_of(p).values()} - set(out):
        try:
            out[key] = _numpy_tree(calls[key]())
        except Exception as e:  # noqa: BLE001 - a torch.func limitation, not autodx's
            STATS[f"torch cannot {key}: {type(e).__name__}"] += 1
    return out


def _depending_on_x0(f):
    """f, its output made to depend on the first input (always mapped) by adding 0 * x0.
    NOTE: torch.func.vmap mishandles out_dims != 0 for an output that depends on no mapped
    input: it raises or puts the batch axis first (torch 2.13: vmap(lambda a, b: torch.sin(b),
    (0, None), out_dims=1)(torch.zeros(3, 2), torch.ones(2)) raises; a (3, 3) case gave the
    batch axis first)."""
    return lambda *xs: f(*xs) + 0.0 * torch.sum(xs[0])


def _torch_backward(loss, inputs):
    xs = [torch.tensor(x, requires_grad=True) for x in inputs]
    out = loss(*xs)
    out.backward()
    return _numpy_tree((out, [x.grad for x in xs]))


def _torch_hvp(loss, inputs, vs):
    xs = [torch.tensor(x, requires_grad=True) for x in inputs]
    gs = torch.autograd.grad(loss(*xs), xs, create_graph=True, materialize_grads=True)
    s = sum(torch.sum(g * v) for g, v in zip(gs, vs))
    if s.requires_grad:
        s.backward()
    return [np.zeros_like(x) if t.grad is None else t.grad.numpy() for t, x in zip(xs, inputs)]


def _numpy_tree(tree, tensor_type=torch.Tensor):
    """Tensors (torch's, or autodx's with tensor_type=ad.Tensor) as NumPy, in tuples."""
    if isinstance(tree, (tuple, list)):
        return tuple(_numpy_tree(t, tensor_type) for t in tree)
    return tree.detach().numpy() if isinstance(tree, tensor_type) else tree


# ----------------------------------------------------------------------------- comparison

class Disagreement(AssertionError):
    pass


def assert_close(actual, expected, path: str) -> None:
    """Same nesting, same shapes, autodx's leaves NumPy float64 (never Tensors or tracers),
    values within RTOL of each entry plus RTOL of the largest entry."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            raise Disagreement(f"{path}: expected a sequence of {len(expected)}, got "
                               f"{type(actual).__name__} {_short(actual)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, f"{path}[{i}]")
        return
    if expected is None or actual is None:
        if expected is not actual:
            raise Disagreement(f"{path}: {_short(actual)} where the reference has "
                               f"{_short(expected)}")
        return
    if not isinstance(actual, (np.ndarray, np.generic)):  # NumPy in, NumPy out
        raise Disagreement(f"{path}: autodx returned a {type(actual).__name__}, not NumPy")
    a, e = np.asarray(actual), np.asarray(expected)
    if a.dtype != np.float64:
        raise Disagreement(f"{path}: dtype {a.dtype}, expected float64")
    if a.shape != e.shape:
        raise Disagreement(f"{path}: shape {a.shape}, expected {e.shape}")
    scale = float(np.max(np.abs(e))) if e.size else 0.0
    err = np.abs(a - e)
    bad = ~(err <= RTOL * np.abs(e) + RTOL * scale + ATOL)
    if np.any(bad):
        i = tuple(int(k) for k in np.unravel_index(np.argmax(np.where(bad, err, -1.0)),
                                                   a.shape))
        raise Disagreement(f"{path}: {int(bad.sum())} of {a.size} entries differ; at {i} "
                           f"autodx {float(a[i])!r}, reference {float(e[i])!r}\n"
                           f"  autodx    {_short(a)}\n  reference {_short(e)}")


def _short(x) -> str:
    if isinstance(x, (np.ndarray, np.generic)):
        return np.array2string(np.asarray(x), precision=6, threshold=30).replace("\n", " ")
    return repr(x)[:200]


def _tail(e: BaseException) -> str:
    return "".join(traceback.format_exception(type(e), e, e.__traceback__, limit=-4))


def _source(p: Program, face: str, names) -> str:
    if face == "autodx":
        return p.to_source("autodx", {n: _fill(p, CHECKS[n].line) for n in names})
    refs = dict.fromkeys(CHECKS[n].reference for n in names)
    lines = dict(JAX_LINES, tensor="jax.value_and_grad(loss, argnums={nums})({args})")
    return p.to_source("jax", {k: _fill(p, lines[k]) for k in refs})


def _references(p: Program, use_jax: bool) -> dict[str, list[tuple[str, object]]]:
    """For each reference key, its (oracle, value) pairs. An oracle that cannot run the
    program at all is a generator bug, reported with the program."""
    refs: dict = collections.defaultdict(list)
    oracles = [("jax", _jax_references)] if use_jax else []
    for oracle, compute in oracles + [("torch", _torch_references)]:
        try:
            for k, v in compute(p).items():
                refs[k].append((oracle, v))
        except Exception as e:  # noqa: BLE001 - reported with the program
            raise AssertionError(f"{oracle} could not run the program (steer the generator "
                                 f"away, or fix the op's spelling in fuzz_programs.py):\n"
                                 f"{_tail(e)}\n\n{_source(p, 'jax', CHECKS)}") from e
    refs["value"].append(("numpy", p.reference))
    return refs


def run_checks(p: Program, use_jax: bool = True) -> None:
    """Every check of `p` against every oracle (JAX unless told not to, PyTorch, NumPy); one
    AssertionError naming every check that fails."""
    refs = _references(p, use_jax)
    env = _autodx_env(p)
    failures = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, check in checks_of(p).items():
            if not refs[check.reference]:
                continue
            STATS["checks"] += 1
            STATS[f"check {name}"] += 1
            try:
                got = eval(_fill(p, check.line), env)
                if check.torch_face:
                    got = _numpy_tree(got, ad.Tensor)
            except Exception as e:  # noqa: BLE001 - an error where the oracles succeed
                failures.append((name, f"{name}: autodx raised\n{_tail(e)}"))
                continue
            for oracle, want in refs[check.reference]:
                STATS["comparisons"] += 1
                try:
                    assert_close(got, want, f"{name} vs {oracle}")
                except Disagreement as e:
                    failures.append((name, str(e)))
    STATS["programs"] += 1
    STATS["programs against JAX"] += use_jax
    for s in p.steps:
        STATS[f"op {s.op.name}"] += 1
    if failures:
        names = list(dict.fromkeys(n for n, _ in failures))
        raise AssertionError(
            "autodx disagrees on " + ", ".join(names) + ":\n" + "\n".join(m for _, m in failures)
            + "\n\n# ---- autodx\n" + _source(p, "autodx", names)
            + "\n# ---- JAX\n" + _source(p, "jax", names))


# ----------------------------------------------------------------------------- the tests

@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    ops = sum(1 for k in STATS if k.startswith("op "))
    line = (f"fuzz: {STATS['programs']} programs ({STATS['programs against JAX']} of them "
            f"also against JAX) x {STATS['checks']} checks "
            f"({STATS['comparisons']} comparisons against JAX/PyTorch/NumPy), "
            f"{ops} of {len(OPS)} ops used")
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(line)
    path = os.environ.get("AUTODX_FUZZ_REPORT")
    if path:
        with open(path, "w") as fh:
            json.dump(dict(STATS), fh, indent=1, sort_keys=True)


@pytest.mark.parametrize("family", FAMILIES + ("mixed",))
def test_random_programs(family):
    """Against JAX, PyTorch and NumPy (JAX costs about 0.6 s a program: few examples)."""
    @_seeded
    @settings(max_examples=JAX_EXAMPLES, **SETTINGS)
    @given(st.data())
    def run(data):
        run_checks(data.draw(programs(family), label="program"))
    run()


@pytest.mark.parametrize("family", FAMILIES + ("mixed",))
def test_random_programs_against_torch(family):
    """Against PyTorch (torch.func for the transforms) and NumPy only: many more programs."""
    @_seeded
    @settings(max_examples=TORCH_EXAMPLES, **SETTINGS)
    @given(st.data())
    def run(data):
        run_checks(data.draw(programs(family), label="program"), use_jax=False)
    run()


@pytest.mark.skipif(bool(_ENV_EXAMPLES), reason="a campaign runs the family tests only")
@pytest.mark.parametrize("name", sorted(OPS))
def test_each_op(name):
    """Every op of the table as the first step of programs (the rest drawn from its family),
    so that no op goes unfuzzed in CI; against PyTorch and NumPy."""
    @settings(max_examples=EACH_OP_EXAMPLES, **SETTINGS)
    @given(st.data())
    def run(data):
        run_checks(data.draw(programs(first=OPS[name]), label="program"), use_jax=False)
    run()


def test_to_source_reproduces_the_program():
    """The printed snippets are the programs that ran: exec'd, each gives the value of the
    program built in memory (autodx) and JAX's value (JAX)."""
    @settings(max_examples=6, **SETTINGS)
    @given(st.data())
    def run(data):
        p = data.draw(programs("mixed"), label="program")
        for face, ns in (("autodx", AUTODX), ("jax", JAX)):
            env: dict = {}
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(p.to_source(face, {"value": _fill(p, "f({args})")}), "<fuzz>",
                             "exec"), env)
            got = np.asarray(env["f"](*p.inputs))
            np.testing.assert_allclose(got, np.asarray(p.build(ns)(*p.inputs)), rtol=0, atol=0)
            np.testing.assert_allclose(got, p.reference, rtol=RTOL, atol=ATOL)
    run()


def test_the_fuzzer_catches_a_wrong_derivative(monkeypatch):
    """A derivative off by one part in a million (sin's, through custom_jvp) fails the checks,
    and the message names them and prints the program."""
    sin = anp.sin

    @ad.custom_jvp
    def wrong_sin(x):
        return sin(x)

    wrong_sin.defjvp(lambda primals, tangents: (sin(primals[0]),
                                                tangents[0] * anp.cos(primals[0]) * (1 + 1e-6)))
    monkeypatch.setattr(anp, "sin", wrong_sin)
    monkeypatch.setitem(globals(), "STATS", collections.Counter())  # not counted as fuzzing

    @settings(max_examples=1, phases=[Phase.generate], **SETTINGS)
    @given(st.data())
    def run(data):
        run_checks(data.draw(programs(first=OPS["sin"]), label="program"), use_jax=False)

    with pytest.raises(AssertionError, match=r"(?s)disagrees on .*grad.*anp\.sin\(x0\)"):
        run()
