"""ad.testing: gradcheck/gradgradcheck (PyTorch's) and check_grads (JAX's) pass on correct
derivatives and fail on wrong ones, with the verdicts of torch.autograd.gradcheck and
jax.test_util.check_grads on the same functions and the same deliberately wrong rules."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.test_util
import numpy as np
import pytest
import torch
from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError

import autodx as ad
from autodx.testing import GradcheckError, check_grads, gradcheck, gradgradcheck

anp = ad.numpy
RNG = np.random.default_rng(0)
X = RNG.uniform(-1.0, 1.0, 4)
Y = RNG.uniform(0.5, 1.5, (2, 1))
M = RNG.uniform(-1.0, 1.0, (3, 3)) + 3 * np.eye(3)
Z = RNG.uniform(-1.0, 1.0, 3) + 1j * RNG.uniform(-1.0, 1.0, 3)

# Each function is written once against a module `m` (ad.numpy, torch or jax.numpy) and
# evaluated by all three on the same inputs.
CORRECT = {
    "sin(x) * x": (lambda m: lambda x: m.sin(x) * x, (X,)),
    "x * y**2, broadcast": (lambda m: lambda x, y: x * y**2, (X, Y)),
    "two outputs": (lambda m: lambda x, y: (m.exp(x), (x * y).sum()), (X, Y)),
    "tanh(m @ m) @ x": (lambda m: lambda a, x: m.tanh(a @ a) @ x[:3], (M, X)),
    "complex z * z": (lambda m: lambda z: z * z, (Z,)),
    "complex |z|^2, real output": (lambda m: lambda z: (z * z.conj()).real, (Z,)),
    "complex x * z, real and complex inputs": (lambda m: lambda x, z: x[:3] * m.exp(z), (X, Z)),
}


def _ad(*arrays):
    return tuple(ad.tensor(a, requires_grad=True) for a in arrays)


def _torch(*arrays):
    return tuple(torch.tensor(a, requires_grad=True) for a in arrays)


def _is_complex_case(arrays) -> bool:
    return any(np.iscomplexobj(a) for a in arrays)


@pytest.mark.parametrize("fast_mode", [False, True])
@pytest.mark.parametrize("name", list(CORRECT))
def test_gradcheck_passes_on_correct_functions_as_torch_does(name, fast_mode):
    make, arrays = CORRECT[name]
    checks = dict(check_forward_ad=True, check_batched_grad=True, fast_mode=fast_mode)
    assert torch.autograd.gradcheck(make(torch), _torch(*arrays), **checks)
    assert gradcheck(make(anp), _ad(*arrays), check_batched_forward_grad=True, **checks)


@pytest.mark.parametrize("name", list(CORRECT))
def test_gradgradcheck_passes_on_correct_functions_as_torch_does(name):
    make, arrays = CORRECT[name]
    assert torch.autograd.gradgradcheck(make(torch), _torch(*arrays), check_fwd_over_rev=True)
    assert gradgradcheck(make(anp), _ad(*arrays), check_fwd_over_rev=True)
    assert gradgradcheck(make(anp), _ad(*arrays), fast_mode=True)


@pytest.mark.parametrize("name", list(CORRECT))
def test_check_grads_passes_on_correct_functions(name):
    make, arrays = CORRECT[name]
    check_grads(make(anp), arrays, order=2)
    check_grads(make(anp), arrays, order=1, modes=("rev",))


def test_check_grads_passes_where_jaxs_does():
    # (JAX compiles every new operation on first use: one case is enough to compare)
    make, arrays = CORRECT["complex x * z, real and complex inputs"]
    jax.test_util.check_grads(make(jnp), arrays, order=1)
    check_grads(make(anp), arrays, order=1)


# ----------------------------------------------------------------------------- wrong rules

def _ad_wrong_sin():
    """sin with a backward rule 10% off (a custom_vjp; forward mode differentiates sin)."""
    f = ad.custom_vjp(lambda x: anp.sin(x))
    f.defvjp(lambda x: (anp.sin(x), x), lambda x, g: (g * anp.cos(x) * 1.1,))
    return f


def _torch_sin(derivative):
    """torch's sin as an autograd.Function whose backward uses `derivative(x)`."""
    class Sin(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.sin(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * derivative(x)

    return Sin


_TorchWrongSin = _torch_sin(lambda x: torch.cos(x) * 1.1)


def _jax_wrong_sin():
    f = jax.custom_vjp(lambda x: jnp.sin(x))
    f.defvjp(lambda x: (jnp.sin(x), x), lambda x, g: (g * jnp.cos(x) * 1.1,))
    return f


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_fails_on_a_wrong_backward_as_torch_does(fast_mode):
    wrong = _ad_wrong_sin()
    assert not torch.autograd.gradcheck(_TorchWrongSin.apply, _torch(X), fast_mode=fast_mode,
                                        raise_exception=False)
    assert not gradcheck(wrong, _ad(X), fast_mode=fast_mode, raise_exception=False)
    match = "Jacobian mismatch for output 0 with respect to input 0"
    with pytest.raises(TorchGradcheckError, match=match):
        torch.autograd.gradcheck(_TorchWrongSin.apply, _torch(X), fast_mode=fast_mode)
    with pytest.raises(GradcheckError, match=match) as info:
        gradcheck(wrong, _ad(X), fast_mode=fast_mode)
    assert isinstance(info.value, RuntimeError)  # as PyTorch's GradcheckError
    # forward mode differentiates the function itself, not the custom backward rule
    assert gradcheck(wrong, _ad(X), check_forward_ad=True, check_backward_ad=False)


def test_check_grads_fails_on_a_wrong_backward_as_jax_does():
    with pytest.raises(AssertionError):
        jax.test_util.check_grads(_jax_wrong_sin(), (X,), order=1, modes=("rev",))
    for modes in (("rev",), ("fwd", "rev")):  # JAX cannot jvp a custom_vjp: autodx only
        with pytest.raises(AssertionError, match="VJP of f disagrees with central finite"):
            check_grads(_ad_wrong_sin(), (X,), order=1, modes=modes)
    check_grads(_ad_wrong_sin(), (X,), order=2, modes=("fwd",))  # jvp differentiates sin


def test_a_rule_right_to_first_order_only_fails_at_second_order_in_every_spelling():
    # the backward rule's cos(x) is cut from the graph: the gradient is right, its derivative
    # is not (torch: a detach in backward; JAX: stop_gradient in a custom_jvp rule)
    ad_f = ad.custom_vjp(lambda x: anp.sin(x))
    ad_f.defvjp(lambda x: (anp.sin(x), x), lambda x, g: (g * ad.stop_gradient(anp.cos(x)),))

    TorchF = _torch_sin(lambda x: torch.cos(x).detach())

    assert torch.autograd.gradcheck(TorchF.apply, _torch(X))
    assert gradcheck(ad_f, _ad(X))
    assert not torch.autograd.gradgradcheck(TorchF.apply, _torch(X), raise_exception=False)
    assert not gradgradcheck(ad_f, _ad(X), raise_exception=False)
    assert not gradgradcheck(ad_f, _ad(X), fast_mode=True, raise_exception=False)

    ad_g = ad.custom_jvp(lambda x: anp.sin(x))
    ad_g.defjvp(lambda p, t: (anp.sin(p[0]), ad.stop_gradient(anp.cos(p[0])) * t[0]))
    jax_g = jax.custom_jvp(lambda x: jnp.sin(x))
    jax_g.defjvp(lambda p, t: (jnp.sin(p[0]), jax.lax.stop_gradient(jnp.cos(p[0])) * t[0]))
    jax.test_util.check_grads(jax_g, (X,), order=1)
    check_grads(ad_g, (X,), order=1)
    with pytest.raises(AssertionError):
        jax.test_util.check_grads(jax_g, (X,), order=2)
    with pytest.raises(AssertionError, match=r"of jvp\(f\)|of vjp\(f\)"):
        check_grads(ad_g, (X,), order=2)


def test_a_backward_that_ignores_its_cotangent_fails_as_in_torch():
    """d/dx x = 1 whatever the cotangent: every Jacobian row is right, zero cotangents are not."""
    ad_f = ad.custom_vjp(lambda x: x * 1.0)
    ad_f.defvjp(lambda x: (x * 1.0, None), lambda res, g: (anp.ones_like(g),))

    class TorchF(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            return torch.ones_like(g)

    match = "backward not multiplied by grad_output"
    with pytest.raises(TorchGradcheckError, match=match):
        torch.autograd.gradcheck(TorchF.apply, _torch(np.array(0.5)))
    with pytest.raises(GradcheckError, match=match):
        gradcheck(ad_f, _ad(np.array(0.5)))


def test_a_wrong_complex_rule_fails_the_complex_check():
    """z * z whose backward conjugates where the engine's convention does not: autodx's
    gradcheck sees complex numbers as two real coordinates and catches it."""
    f = ad.custom_vjp(lambda z: z * z)
    f.defvjp(lambda z: (z * z, z), lambda z, g: (g * anp.conj(2 * z),))
    right = ad.custom_vjp(lambda z: z * z)
    right.defvjp(lambda z: (z * z, z), lambda z, g: (g * 2 * z,))
    assert gradcheck(right, _ad(Z)) and gradcheck(right, _ad(Z), fast_mode=True)
    assert not gradcheck(f, _ad(Z), raise_exception=False)
    assert not gradcheck(f, _ad(Z), fast_mode=True, raise_exception=False)
    with pytest.raises(AssertionError, match="VJP of f"):
        check_grads(f, (Z,), order=1)


def test_a_nondeterministic_backward_is_not_reentrant():
    noise = np.random.default_rng(1)
    f = ad.custom_vjp(lambda x: anp.sin(x))
    f.defvjp(lambda x: (anp.sin(x), x),
             lambda x, g: (g * (anp.cos(x) + 1e-9 * noise.standard_normal(x.shape)),))
    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        gradcheck(f, _ad(X))
    assert gradcheck(f, _ad(X), nondet_tol=1e-6)


# ----------------------------------------------------------------------------- inputs, outputs

def test_inputs_pass_through_unless_they_require_grad():
    x = ad.tensor(X, requires_grad=True)
    assert gradcheck(lambda x, n, c: x**n * c, (x, 3, ad.tensor(2.0)))
    assert gradcheck(anp.sin, x)  # a single Tensor, not a tuple
    assert x.grad is None  # gradcheck never accumulates into .grad
    assert gradcheck(lambda a: anp.linalg.qr(a), _ad(M))  # two outputs, each alone too


def test_no_input_requiring_grad_is_a_value_error_as_in_torch():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        torch.autograd.gradcheck(torch.sin, (torch.tensor(X),))
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(anp.sin, (ad.tensor(X),))
    with pytest.raises(ValueError, match="check_grads"):  # a NumPy array: the JAX face's
        gradcheck(anp.sin, (X,))


def test_single_precision_inputs_warn_as_in_torch():
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double"):
        torch.autograd.gradcheck(torch.sin, (torch.tensor(X, dtype=torch.float32,
                                                          requires_grad=True),),
                                 eps=1e-3, atol=1e-2, rtol=1e-2)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double"):
        gradcheck(anp.sin, ad.tensor(X.astype(np.float32), requires_grad=True), eps=1e-3,
                  atol=1e-2, rtol=1e-2)


def test_outputs_that_do_not_require_grad_must_not_depend_on_the_inputs():
    match = "Numerical gradient for function expected to be zero"
    with pytest.raises(TorchGradcheckError, match=match):
        torch.autograd.gradcheck(lambda x: x.detach() * 2, _torch(X))
    with pytest.raises(GradcheckError, match=match):
        gradcheck(lambda x: x.detach() * 2, _ad(X))
    assert gradcheck(lambda x: ad.tensor(np.ones(2)), _ad(X))


def test_argument_checks():
    with pytest.raises(AssertionError, match="check_forward_ad or check_backward_ad"):
        gradcheck(anp.sin, _ad(X), check_backward_ad=False)
    with pytest.raises(AssertionError, match="check_batched_grad=True requires"):
        gradcheck(anp.sin, _ad(X), check_backward_ad=False, check_forward_ad=True,
                  check_batched_grad=True)
    with pytest.raises(AssertionError, match="check_undefined_grad=True requires"):
        gradgradcheck(anp.sin, _ad(X), check_rev_over_rev=False, check_fwd_over_rev=True)
    assert gradgradcheck(anp.sin, _ad(X), check_rev_over_rev=False, check_fwd_over_rev=True,
                         check_undefined_grad=False)
    with pytest.raises(ValueError, match="modes must hold"):
        check_grads(anp.sin, (X,), order=1, modes=("forward",))


def test_check_grads_takes_pytrees_and_jaxs_tolerances():
    params = {"w": X, "b": np.array(0.5)}
    f = lambda p, x: anp.tanh(p["w"] * x + p["b"]).sum()
    check_grads(f, (params, X[::-1]), order=2)
    jax.test_util.check_grads(lambda p, x: jnp.tanh(p["w"] * x + p["b"]).sum(),
                              (params, X[::-1]), order=1)
    off = ad.custom_jvp(lambda x: x**2)  # derivative off by 1e-7: within atol, not with 1e-9
    off.defjvp(lambda p, t: (p[0] ** 2, (2 * p[0] + 1e-7) * t[0]))
    check_grads(off, (X,), order=1)
    with pytest.raises(AssertionError):
        check_grads(off, (X,), order=1, atol=1e-9, rtol=1e-9)
