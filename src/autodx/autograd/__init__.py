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
    check_inputs,
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
    check_inputs(inputs, "grad")
    capture = [t._node for t in inputs]
    if is_grads_batched:  # one backward pass for the whole batch of cotangents (vmap)
        cts = _batched_grad_outputs(outputs, grad_outputs)
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


def _batched_grad_outputs(outputs: list, grad_outputs) -> list:
    """is_grads_batched's cotangents: one per output, each a batch (first axis) of cotangents
    of the output's shape, all batches of one size; checked before anything is vmapped."""
    if grad_outputs is None:
        raise RuntimeError("is_grads_batched=True needs grad_outputs: for each output, a batch "
                           "of cotangents stacked along the first axis, e.g. grad_outputs="
                           "ad.tensor(np.eye(n)) for all n rows of the Jacobian")
    cts = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
    if len(cts) != len(outputs):
        raise RuntimeError(f"grad_outputs: got {len(cts)} batches of gradients for "
                           f"{len(outputs)} outputs; pass one per output (is_grads_batched=True)")
    sizes = set()
    for i, (out, c) in enumerate(zip(outputs, cts)):
        shape = tuple(shape_of(c))
        if not shape or shape[1:] != out.shape:
            want = f"(batch{''.join(f', {n}' for n in out.shape) or ','})"
            raise RuntimeError(
                f"is_grads_batched=True reads the first axis of each grad_output as the batch, "
                f"so grad_outputs[{i}] must have shape {want} for output "
                f"{i} of shape {out.shape}, but it has shape {shape}. Stack the cotangents "
                f"along the first dimension (or pass is_grads_batched=False for one of the "
                f"output's shape).")
        sizes.add(shape[0])
    if len(sizes) > 1:
        raise RuntimeError(f"is_grads_batched=True: the grad_outputs have batches of different "
                           f"sizes {sorted(sizes)} along their first axis; give every output "
                           f"the same number of cotangents.")
    return cts
