"""One single-head self-attention block on a batch of token sequences, written with
`np.einsum`: scaled dot-product scores, a max-stabilized softmax over the keys, the weighted
sum of values, and the mean squared error against targets."""

import numpy as np
from numpy.random import default_rng

rng = default_rng(7)
B, T, F, D = 2, 5, 4, 3
X = rng.standard_normal((B, T, F))
TARGET = rng.standard_normal((B, T, D))


def softmax(s, axis=-1):
    e = np.exp(s - np.max(s, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def loss(Wq, Wk, Wv):
    q = np.einsum("btf,fd->btd", X, Wq)
    k = np.einsum("btf,fd->btd", X, Wk)
    v = np.einsum("btf,fd->btd", X, Wv)
    scores = np.einsum("bid,bjd->bij", q, k) / np.sqrt(D)
    out = np.einsum("bij,bjd->bid", softmax(scores), v)
    return np.mean((out - TARGET) ** 2)


PARAMS = tuple(rng.standard_normal((F, D)) / np.sqrt(F) for _ in range(3))
