"""The torch-compatible `ad.autograd` namespace: `grad`, `backward`, `functional`, grad mode."""

from __future__ import annotations

import numpy as np

from ..anomaly import detect_anomaly, is_anomaly_enabled
from ..batching import vmap_flat
from ..core import shape_of
from ..tensor import (
    Tensor,
    _as_tensors,
    backward,
    enable_grad,
    is_grad_enabled,
    no_grad,
    run_backward,
    set_grad_enabled,
)
from . import functional

__all__ = ["backward", "detect_anomaly", "enable_grad", "functional", "grad",
           "is_anomaly_enabled", "is_grad_enabled", "no_grad", "set_grad_enabled"]


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """The gradients of `outputs` with respect to `inputs`, as a tuple (`.grad` untouched).

    >>> x = ad.tensor(2.0, requires_grad=True); ad.autograd.grad(3 * x**2, x)
    (tensor(12.),)
    """
    outputs = _as_tensors(outputs, "outputs")
    inputs = _as_tensors(inputs, "inputs")
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and not allow_unused:
        raise ValueError("materialize_grads=True needs allow_unused to be True or None")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (inputs[{i}]) does not "
                               "require grad. Create it with requires_grad=True.")
    capture = [t._node for t in inputs]
    if is_grads_batched:  # one backward pass for the whole batch of cotangents (vmap)
        if grad_outputs is None:
            raise ValueError("is_grads_batched=True needs grad_outputs: one batch of "
                             "cotangents per output, the batch along the first axis")
        cts = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
        cts = [c._value if isinstance(c, Tensor) and not create_graph else c for c in cts]
        size = shape_of(cts[0])[0]
        raw = vmap_flat(lambda *batch: run_backward(outputs, list(batch), retain_graph,
                                                    create_graph, capture, accumulate=False),
                        cts, [0] * len(cts), size, 0)
    else:
        raw = run_backward(outputs, grad_outputs, retain_graph, create_graph, capture,
                           accumulate=False)
    batch_shape = (size,) if is_grads_batched else ()
    result = []
    for i, (t, g) in enumerate(zip(inputs, raw)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (inputs[{i}]) appears to not have been "
                    "used in the graph. Set allow_unused=True if this is the desired behavior "
                    "(its gradient is then None), or materialize_grads=True for zeros.")
            g = (Tensor._make(np.zeros(batch_shape + t.shape, t.dtype), None) if materialize_grads
                 else None)
        elif not isinstance(g, Tensor):
            g = Tensor._make(g, None)
        result.append(g)
    return tuple(result)
