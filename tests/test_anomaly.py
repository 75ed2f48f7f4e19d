"""Anomaly detection (`ad.autograd.detect_anomaly`, `ad.config.debug_nans`) and NumPy's
floating-point warnings shown at the user's line."""

import inspect
import warnings

import numpy as np
import pytest
import torch

import autodx as ad
import autodx.numpy as anp
from autodx import reverse
from autodx.core import PRIMITIVES


def _line_of(fn, text: str) -> int:
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


def deep_loss(p):
    h = anp.tanh(p @ np.eye(2))
    z = anp.abs(h) * 1.0
    return anp.sum(anp.log(z) + h ** 2)  # log(0) where p has a 0


@pytest.mark.parametrize("face", ["functional", "tape"])
def test_log_of_zero_deep_in_a_loss_raises_naming_log_and_the_line(face):
    line = _line_of(deep_loss, "anp.log(z)")
    with ad.autograd.detect_anomaly():
        with pytest.raises(ad.AnomalyError, match=rf"log produced -inf .*"
                                                  rf"test_anomaly.py:{line}: return anp.sum"):
            if face == "functional":
                ad.grad(deep_loss)(np.array([0.5, 0.0]))
            else:
                deep_loss(ad.tensor([0.5, 0.0], requires_grad=True)).backward()
    np.testing.assert_allclose(ad.grad(deep_loss)(np.array([0.5, 0.3])),  # usable afterwards
                               ad.grad(deep_loss)(np.array([0.5, 0.3])))


def sqrt_of_zero(x):
    return anp.sum(anp.sqrt(x * 0.0))  # fine forward (0), inf in the backward pass


def test_a_nan_or_inf_made_in_the_backward_pass_names_the_operation_and_its_creating_line():
    line = _line_of(sqrt_of_zero, "anp.sqrt")
    t = ad.tensor([0.5, 0.2], requires_grad=True)
    with ad.autograd.detect_anomaly():
        loss = sqrt_of_zero(t)
        with pytest.raises(ad.AnomalyError, match=rf"backward pass of SqrtBackward \(the "
                                                  rf"operation created at .*:{line}: "):
            loss.backward()
    assert t.grad is None
    # PyTorch raises a RuntimeError there too: AnomalyError is one (and a FloatingPointError,
    # what JAX's debug_nans raises)
    ref = torch.tensor([0.5, 0.2], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns that anomaly mode is slow
        with torch.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="nan"):
            torch.sqrt(ref * 0.0).sum().backward()
    assert issubclass(ad.AnomalyError, RuntimeError)
    assert issubclass(ad.AnomalyError, FloatingPointError)


def test_detection_off_costs_nothing_the_plain_impls_and_engine_are_back():
    impls = {p: p.impl for p in PRIMITIVES.values()}
    init, send = reverse.Node.__init__, reverse.send_cotangents
    tape_init = type((ad.tensor(1.0, requires_grad=True) * 2)._node).__init__
    with ad.autograd.detect_anomaly():
        with ad.autograd.detect_anomaly():  # nested
            assert ad.autograd.is_anomaly_enabled()
        assert ad.autograd.is_anomaly_enabled()
        assert PRIMITIVES["log"].impl is not impls[PRIMITIVES["log"]]
    assert not ad.autograd.is_anomaly_enabled()
    assert all(p.impl is impl for p, impl in impls.items())
    assert (reverse.Node.__init__, reverse.send_cotangents) == (init, send)
    t = ad.tensor(1.0, requires_grad=True)
    assert type((t * 2)._node).__init__ is tape_init
    assert not hasattr((t * 2)._node, "site")  # no creating line recorded while off


def test_decorator_and_config_spellings():
    @ad.autograd.detect_anomaly()
    def run():
        return ad.grad(lambda x: anp.sum(anp.log(x)))(np.array([1.0, 0.0]))

    with pytest.raises(ad.AnomalyError, match="log"):
        run()
    assert not ad.autograd.is_anomaly_enabled()
    ad.config.update("jax_debug_nans", True)
    try:
        assert ad.config.debug_nans and ad.autograd.is_anomaly_enabled()
        with pytest.raises(FloatingPointError, match="div produced"):
            ad.grad(lambda x: 1.0 / x)(0.0)
    finally:
        ad.config.debug_nans = False
    assert not ad.autograd.is_anomaly_enabled()
    np.testing.assert_allclose(ad.grad(lambda x: 1.0 / x)(2.0), -0.25)
    with pytest.raises(AttributeError, match="debug_nans"):
        ad.config.update("jax_debug_infs", True)


def test_finite_results_and_values_already_nan_do_not_raise():
    with ad.autograd.detect_anomaly():
        np.testing.assert_allclose(ad.grad(lambda x: anp.sum(anp.log(x)))(np.array([1.0, 2.0])),
                                   [1.0, 0.5])
        # a NaN that comes in is not 'produced': only the op that made it is blamed
        value, g = ad.value_and_grad(lambda x: anp.sum(anp.sin(x) * 2.0))(np.array([np.nan]))
        assert np.isnan(value) and np.isnan(g).all()


def test_detect_anomaly_with_check_nan_false_checks_nothing():
    with ad.autograd.detect_anomaly(check_nan=False), np.errstate(divide="ignore"):
        assert np.isneginf(anp.log(ad.tensor(0.0, requires_grad=True)).item())
        assert not ad.autograd.is_anomaly_enabled()


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(str(w.message), w.filename, w.lineno) for w in caught]


def test_numpy_warnings_point_at_the_users_line_on_both_faces():
    def tape():
        anp.log(ad.tensor([0.0, 1.0], requires_grad=True))  # tape-line

    def functional():
        ad.grad(lambda x: anp.sum(anp.log(x)))(np.array([0.0, 1.0]))  # functional-line

    for fn, marker in [(tape, "tape-line"), (functional, "functional-line")]:
        got = _warnings_of(fn)
        assert ("divide by zero encountered in log", __file__, _line_of(fn, marker)) in got
        assert all(filename == __file__ for _, filename, _ in got), got


def test_numpy_warnings_follow_the_users_settings():
    with np.errstate(divide="ignore"):
        assert _warnings_of(lambda: anp.log(ad.tensor(0.0))) == []
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        anp.log(ad.tensor(0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="divide by zero encountered in log"):
            anp.log(ad.tensor(0.0))
    with np.errstate(divide="ignore"):
        assert np.isneginf(anp.log(ad.tensor(0.0)).item())  # the value is NumPy's


def test_only_impl_calls_are_redirected_other_warnings_stay_warnings():
    # engine lines that are not impl calls, and user callbacks, keep NumPy's plain warnings:
    # a backward pass whose .grad accumulation overflows completes (as before the filter)
    x = ad.tensor([1.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (x * 1e308).sum().backward()
        (x * 1e308).sum().backward()
        y = ad.tensor([1.0, 2.0], requires_grad=True) * 2
        y.register_hook(lambda g: warnings.warn("user note", RuntimeWarning, stacklevel=2))
        y.sum().backward()
    assert np.isposinf(x.grad.item())
    assert {"overflow encountered in add", "user note"} <= {str(w.message) for w in caught}
