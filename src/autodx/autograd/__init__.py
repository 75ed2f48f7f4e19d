"""The torch-compatible `ad.autograd` namespace: `grad`, `backward`, `functional`, grad mode."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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

__all__ = ["backward", "enable_grad", "functional", "grad", "is_grad_enabled", "no_grad",
           "set_grad_enabled"]


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
    if is_grads_batched:
        return _batched(outputs, inputs, grad_outputs, retain_graph, create_graph,
                        allow_unused, materialize_grads)
    raw = run_backward(outputs, grad_outputs, retain_graph, create_graph,
                       capture=[t._node for t in inputs], accumulate=False)
    result = []
    for i, (t, g) in enumerate(zip(inputs, raw)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (inputs[{i}]) appears to not have been "
                    "used in the graph. Set allow_unused=True if this is the desired behavior "
                    "(its gradient is then None), or materialize_grads=True for zeros.")
            g = Tensor._make(np.zeros(t.shape, t.dtype), None) if materialize_grads else None
        elif not isinstance(g, Tensor):
            g = Tensor._make(g, None)
        result.append(g)
    return tuple(result)


def _batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
             materialize_grads):
    """`is_grads_batched=True`: the first axis of every grad_output indexes independent VJPs."""
    from .. import numpy as anp

    grad_outputs = list(grad_outputs) if isinstance(grad_outputs, Sequence) else [grad_outputs]
    batch = grad_outputs[0].shape[0]
    rows = [grad(outputs, inputs, [g[k] for g in grad_outputs], retain_graph=True,
                 create_graph=create_graph, allow_unused=allow_unused,
                 materialize_grads=materialize_grads) for k in range(batch)]
    if not (retain_graph or create_graph):
        for out in outputs:
            out._node.free() if out._node is not None else None
    return tuple(None if r[0] is None else anp.stack(list(r)) for r in zip(*rows))
