"""Jacobian-vector, vector-Jacobian and Hessian-vector products from torch.func for
SwiftDL's dljvp, dlvjp and dlhvp (forward_mode.json)."""

import torch
from torch.func import jvp, vjp

from fixture_common import array, randn, write

cases = {}

# A two-layer tanh network of a batch of points, with its weights as fixed constants:
# f(x) = tanh(x @ w1 + b1) @ w2.
x = randn(4, 3, requires_grad=False)
w1 = randn(3, 5, requires_grad=False)
b1 = randn(5, requires_grad=False)
w2 = randn(5, 2, requires_grad=False)


def network(x):
    return torch.tanh(x @ w1 + b1) @ w2


v = randn(4, 3, requires_grad=False)
u = randn(4, 2, requires_grad=False)
value, tangent = jvp(network, (x,), (v,))
_, pullback = vjp(network, x)
(cotangent,) = pullback(u)
cases["network"] = {"x": array(x), "w1": array(w1), "b1": array(b1), "w2": array(w2),
                    "v": array(v), "u": array(u), "value": array(value),
                    "jvp": array(tangent), "vjp": array(cotangent)}


# A scalar of two arrays (a container): f(a, b) = sum(sin(a) * b^2) + sum(a)^2 / 4.
a = randn(2, 3, requires_grad=False)
b = randn(2, 3, requires_grad=False)
va = randn(2, 3, requires_grad=False)
vb = randn(2, 3, requires_grad=False)


def scalar(a, b):
    return (torch.sin(a) * b ** 2).sum() + a.sum() ** 2 / 4


value, (hva, hvb) = torch.autograd.functional.hvp(scalar, (a, b), (va, vb))
_, tangent = jvp(scalar, (a, b), (va, vb))
cases["container"] = {"a": array(a), "b": array(b), "va": array(va), "vb": array(vb),
                      "value": array(value), "jvp": array(tangent), "hvp_a": array(hva), "hvp_b": array(hvb)}

write("forward_mode", cases)
