"""Quickstart: fit a least-squares model with numopt's Adam in a custom loop."""

import numpy as np

import numopt

rng = np.random.default_rng(0)
A = rng.standard_normal((200, 5))
x_true = np.arange(1.0, 6.0)
b = A @ x_true

x = np.zeros(5)
opt = numopt.Adam(learning_rate=0.05)
for _ in range(2000):
    g = A.T @ (A @ x - b) / len(b)
    opt.step(x, g)
print("x  =", np.round(x, 4))
print("max |x - x_true| =", float(np.max(np.abs(x - x_true))))
