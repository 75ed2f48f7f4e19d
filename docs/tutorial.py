# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tutorial: a derivative, a gradient, a Jacobian and a Hessian, both ways
#
# Our users start from a notebook that computes a derivative, partial derivatives, a gradient,
# a Jacobian and a Hessian in PyTorch and in JAX, and stalls at walls the libraries do not
# explain. This is that notebook done right, with autodx: every cell **both ways** — the
# PyTorch way (`ad.tensor(..., requires_grad=True)`, `.backward()`, `ad.autograd.grad`,
# `ad.autograd.functional`) and the JAX way (`ad.grad`, `ad.jacobian`, `ad.hessian`,
# `ad.vmap`) — every wall turned into the error autodx gives and the fix, the unfinished cells
# finished, and the derivative *shown*: `ad.explain` writes it as math, `ad.draw` draws the
# graph, `ad.plot` plots it.
#
# Every value on this page was computed when the page was built, and a test checks them.
# To run it yourself: `pip install -e '.[explain,draw,plot]'` in a clone, then paste the cells
# in order (or open `docs/tutorial.py` in Jupyter with jupytext).

# %%
import numpy as np

import autodx as ad

anp = ad.numpy  # NumPy's functions, differentiable: anp.stack, anp.sin, ...

# %% [markdown]
# ## 1. A derivative
#
# $f(x) = 3x^2$ has the derivative $f'(x) = 6x$, so $f'(2) = 12$.

# %%
def f1(x):
    return 3 * x**2


# The PyTorch way: a tensor that records, then .backward()
x = ad.tensor(2.0, requires_grad=True)
z = f1(x)
z.backward()
print("PyTorch way, .backward():  ", x.grad)
print("PyTorch way, autograd.grad:", ad.autograd.grad(f1(x), x)[0])

# The JAX way: grad transforms the function, then we call it at 2.0
print("JAX way, grad:             ", ad.grad(f1)(2.0))

# %% [markdown]
# What did autodx compute? `ad.explain` reads the program autodx actually runs for the
# derivative and writes it as math, with its value:

# %%
ad.explain(ad.grad(f1))(2.0)

# %% [markdown]
# **Wall: `.backward()` twice.** The graph is freed by the first `backward()` (as in
# PyTorch), and `.grad` *accumulates* across calls — a classic surprise in a notebook, where
# cells are re-run:

# %%
try:
    z.backward()  # z's graph was used up by the backward() above
except ad.FreedGraphError as error:
    print(f"{type(error).__name__}: {error}")

z = f1(x)
z.backward()  # a fresh graph: fine, but x.grad now holds 12 + 12
print("after a second backward():", x.grad)
x.grad = None  # the fix: reset .grad (what optimizer.zero_grad() does)
f1(x).backward()
print("after resetting x.grad:   ", x.grad)

# %% [markdown]
# ## 2. Partial derivatives
#
# $f(x, y) = 2x^2 + 3y$: $\partial f/\partial x = 4x = 8$ and $\partial f/\partial y = 3$
# at $(2, 1.5)$.

# %%
def f2(x, y):
    return 2 * x**2 + 3 * y


x = ad.tensor(2.0, requires_grad=True)
y = ad.tensor(1.5, requires_grad=True)

# The PyTorch way, 1: backward() fills .grad of every leaf
f2(x, y).backward()
print("PyTorch way, .backward():   d/dx =", x.grad, " d/dy =", y.grad)

# The PyTorch way, 2: autograd.grad with respect to one input at a time
print("PyTorch way, autograd.grad: d/dx =", ad.autograd.grad(f2(x, y), x)[0],
      " d/dy =", ad.autograd.grad(f2(x, y), y)[0])

# The JAX way: argnums says which argument to differentiate
print("JAX way, grad(argnums=...): d/dx =", ad.grad(f2, argnums=0)(2.0, 1.5),
      " d/dy =", ad.grad(f2, argnums=1)(2.0, 1.5))

# %% [markdown]
# The partials as math: `order=1` differentiates once in the `argnums` arguments.

# %%
ad.explain(f2, argnums=(0, 1), order=1)(2.0, 1.5)

# %% [markdown]
# ## 3. The gradient
#
# The gradient is the vector of the partials, $\nabla f = (4x, 3) = (8, 3)$. The notebook
# built it by hand from `x.grad` and `y.grad`, or with `torch.tensor(...)` of a tuple of
# tensors; both ways give it in one call:

# %%
# The PyTorch way: one gradient per input
gx, gy = ad.autograd.grad(f2(x, y), (x, y))
print("PyTorch way:", gx, gy, "->", anp.stack([gx, gy]))

# The JAX way: argnums=(0, 1) gives one entry per argument
dx, dy = ad.grad(f2, argnums=(0, 1))(2.0, 1.5)
print("JAX way:    ", dx, dy, "->", np.array([dx, dy]))

# ... or make the point one vector: the gradient is one vector too
print("one vector: ", ad.grad(lambda v: f2(v[0], v[1]))(np.array([2.0, 1.5])))

# %% [markdown]
# **Wall: `grad` of a function with several outputs.** `grad` is for one scalar output; the
# error says what to use instead:

# %%
try:
    two_outputs = lambda x, y: anp.stack([x**2 + y**2, x - y])
    ad.grad(two_outputs, argnums=(0, 1))(2.0, 1.0)
except ad.NonScalarOutputError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# The gradient is the direction of steepest ascent. For $f(x, y)$, `ad.plot` draws the
# contour lines of $f$ with its gradient as arrows (computed with `vmap(grad(f))`):

# %%
ad.plot(lambda x, y: 2 * x**2 + 3 * y, (-3, 3), order=1)

# %% [markdown]
# ## 4. The Jacobian
#
# $f(x, y) = [x^2 + y^2,\; x - y]$ has two outputs and two inputs. Its Jacobian has one
# **row per output** and one **column per input**:
#
# $$J = \begin{bmatrix} \partial f_1/\partial x & \partial f_1/\partial y \\
#                       \partial f_2/\partial x & \partial f_2/\partial y \end{bmatrix}
#     = \begin{bmatrix} 2x & 2y \\ 1 & -1 \end{bmatrix}
#     = \begin{bmatrix} 4 & 2 \\ 1 & -1 \end{bmatrix} \text{ at } (2, 1).$$

# %%
def g1(x, y):
    return x**2 + y**2


def g2(x, y):
    return x - y


def f(x, y):
    return anp.stack([g1(x, y), g2(x, y)])


x = ad.tensor(2.0, requires_grad=True)
y = ad.tensor(1.0, requires_grad=True)
z = f(x, y)
print(z)

# %% [markdown]
# **Wall: `z.backward()` of a vector.** The notebook stopped here with a screenshot of
# PyTorch's error. autodx's says what each way out computes:

# %%
try:
    z.backward()
except ad.NonScalarOutputError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# `backward(gradient=v)` gives $v^\top J$, a weighted sum of the rows. With $v = e_1$ and
# $v = e_2$ that is the Jacobian row by row (`retain_graph=True` keeps the graph for the
# second pass):

# %%
rows = []
for v in np.eye(2):
    x.grad = y.grad = None
    z.backward(gradient=ad.tensor(v), retain_graph=True)
    rows.append([x.grad.item(), y.grad.item()])
print("rows from backward(gradient=e_i):", rows)

# %% [markdown]
# **Wall: the transpose surprise.** `autograd.functional.jacobian(f, (x, y))` returns one
# entry *per input*: $\partial f/\partial x$ and $\partial f/\partial y$, the **columns** of
# $J$. The notebook stacked them on axis 0 and printed `[[4, 1], [2, -1]]`, which is $J^\top$.
# Stack on the last axis, or ask for the matrix:

# %%
# The PyTorch way: one entry per input (the columns of J)
columns = ad.autograd.functional.jacobian(f, (x, y))
print("jacobian(f, (x, y)):       ", columns)
print("stacked on axis 0 (J^T!):  ", anp.stack(columns).tolist())
print("stacked on the last axis:  ", anp.stack(columns, axis=-1).tolist())

# The JAX way: matrix=True gives J itself, rows = outputs
J = ad.jacobian(f, argnums=(0, 1), matrix=True)(2.0, 1.0)
print("jacobian(..., matrix=True):", J.tolist())

# %% [markdown]
# The notebook's "jax.grad done manually" is simpler than `vstack(...).T`: each row of $J$ is
# the gradient of one output.

# %%
rows = [ad.grad(g, argnums=(0, 1))(2.0, 1.0) for g in (g1, g2)]
print("row by row with grad:", np.array(rows).tolist())

# %% [markdown]
# **The unfinished cell: the Jacobian with `vmap` and `grad`.** Row $i$ of $J$ is the gradient
# of $e_i \cdot f$; `vmap` computes all rows in one batched pass over the basis vectors $e_i$
# (this is what `ad.jacobian` does inside):

# %%
def row(e):
    e_dot_f = lambda x, y: anp.sum(e * f(x, y))
    return anp.stack(ad.grad(e_dot_f, argnums=(0, 1))(2.0, 1.0))


print("vmap(grad) over the basis:", ad.vmap(row)(np.eye(2)).tolist())

# %% [markdown]
# The Jacobian as math, rows = outputs, columns = inputs:

# %%
ad.explain(f, argnums=(0, 1), order=1)(2.0, 1.0)

# %% [markdown]
# What `.backward()` walks through: the graph autodx recorded for `z = f(x, y)` — the leaves
# `x` and `y` (blue), one box per operation, named as its `grad_fn` prints, and the values each
# operation saved for the backward pass (orange):

# %%
ad.draw(z)

# %% [markdown]
# ## 5. The Hessian
#
# $f(x, y) = x^2 + y^2$ has the Hessian (the Jacobian of the gradient)
# $H = \begin{bmatrix} 2 & 0 \\ 0 & 2 \end{bmatrix}$.

# %%
def h(x, y):
    return x**2 + y**2


x = ad.tensor(2.0, requires_grad=True)
y = ad.tensor(1.0, requires_grad=True)

# The PyTorch way: functional.hessian, a tuple of tuples (row i, column j)
H = ad.autograd.functional.hessian(h, (x, y))
print("autograd.functional.hessian:", np.array(H).tolist())

# The JAX way: hessian, the same layout; matrix=True gives the matrix
H = ad.hessian(h, argnums=(0, 1), matrix=True)(2.0, 1.0)
print("hessian(..., matrix=True):  ", H.tolist())

# %% [markdown]
# **The unfinished cell "Hessian using jacobian", and its wall.** The notebook nested
# `jacobian` with different `argnums` at the two levels and got JAX's `ValueError:
# Positional argument indices ... got value 1 for len(args) == 1`. autodx's error names the
# function, what it was called with, and the fix:

# %%
try:
    inner = ad.jacobian(h, argnums=(0, 1))
    ad.jacobian(inner, argnums=1)(np.array([2.0, 1.0]))
except ad.ArgnumsError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# The fix: the same `argnums` at both levels (the inner `jacobian` keeps both arguments, so
# the outer one can differentiate both too):

# %%
both = (0, 1)
H = ad.jacobian(ad.jacobian(h, argnums=both), argnums=both)(2.0, 1.0)
print("jacobian(jacobian(h)):", np.array(H).tolist())
H = ad.jacfwd(ad.jacrev(h, argnums=both), argnums=both)(2.0, 1.0)
print("jacfwd(jacrev(h)):    ", np.array(H).tolist())

# %% [markdown]
# **The unfinished cell "Hessian using .backward".** Differentiate once with
# `create_graph=True`, so that the gradient is itself recorded, then differentiate each
# partial again:

# %%
gx, gy = ad.autograd.grad(h(x, y), (x, y), create_graph=True)
print("first derivatives:", gx, gy)
try:
    ad.autograd.grad(gx, (x, y), retain_graph=True)  # 2x does not depend on y
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# $\partial(2x)/\partial y$ is zero because $2x$ never reads $y$: `materialize_grads=True`
# returns that zero (PyTorch's spelling; `allow_unused=True` returns `None`):

# %%
H = [ad.autograd.grad(g, (x, y), retain_graph=True, materialize_grads=True)
     for g in (gx, gy)]
print("Hessian, the .backward way:", np.array(H).tolist())

# or literally with .backward(): it fills x.grad and y.grad with one row of H
gx.backward(retain_graph=True)
print("gx.backward(): x.grad =", x.grad, " y.grad =", y.grad)  # None: y unused

# %% [markdown]
# The Hessian as math:

# %%
ad.explain(h, argnums=(0, 1), order=2)(2.0, 1.0)

# %% [markdown]
# ## 6. Seeing a derivative
#
# For $f(x) = \sin(x)\,x^2$, `ad.explain` gives $f'$ and $f''$, and `ad.plot` draws $f$,
# $f'$ and $f''$ on one figure (each curve one batched `vmap(grad(...))` call):

# %%
def wave(x):
    return anp.sin(x) * x**2


print(ad.explain(wave, order=1)(1.0))
print(ad.explain(wave, order=2)(1.0))

# %%
ad.plot(wave, (-3, 3), order=2)

# %% [markdown]
# `ad.draw(f, x, derivative=True)` draws the program autodx stages for `f`, and beside it the
# program of its derivative — what `ad.jit(ad.grad(f))` runs:

# %%
ad.draw(wave, 1.0, derivative=True)

# %% [markdown]
# ## The walls, and what autodx says
#
# - **`z.backward()` of a vector** (the notebook's screenshot of an error):
#   `NonScalarOutputError`, naming the shape. Fix: `backward(gradient=v)` for $v^\top J$,
#   `ad.jacobian(f, matrix=True)` for $J$.
# - **Stacking `jacobian`'s tuple printed $J^\top$**: no error, a layout. Fix:
#   `anp.stack(J, axis=-1)`, or `matrix=True`.
# - **`jacobian(jacobian(f), argnums=1)` called with one argument**: `ArgnumsError`, naming
#   the signature. Fix: the same `argnums` at both levels, or `ad.hessian`.
# - **`backward()` twice**: `FreedGraphError`. Fix: `retain_graph=True`; reset `.grad`
#   between runs.
# - **`grad` of a vector-valued function**: `NonScalarOutputError`. Fix: `ad.jacobian`, or
#   `ad.vjp` for $v^\top J$.
# - **A second derivative of a term that does not use `y`**: a `RuntimeError` that says what
#   to set. Fix: `materialize_grads=True` (zeros) or `allow_unused=True` (`None`).
#
# Next: the [guide](../guide/faces/) for each face in depth, and the
# [API reference](../api/).
