"""PyTorch references for leakyrelu, elu and gelu (exact and tanh approximation).

Each case stores x, y, the gradient dx of sum(y * upstream), and `ddx`, the gradient with
respect to x of sum(dx * v) for a fixed random `v` (a Hessian-vector product). The inputs
stay away from 0, where leakyrelu and elu have kinks.
"""

import torch
import torch.nn.functional as F

from fixture_common import array, write

cases = {}


def away_from_zero(*shape):
    """Normal values pushed at least 0.05 away from 0."""
    x = torch.randn(*shape)
    x = x + 0.05 * torch.sign(x)
    return x.requires_grad_(True)


def record(name, function, shape, settings=None):
    x = away_from_zero(*shape)
    y = function(x)
    upstream = torch.randn_like(y)
    (dx,) = torch.autograd.grad((y * upstream).sum(), (x,), create_graph=True)
    v = torch.randn_like(x)
    (ddx,) = torch.autograd.grad((dx * v).sum(), (x,))
    cases[name] = {"x": array(x), "y": array(y), "upstream": array(upstream), "dx": array(dx),
                   "v": array(v), "ddx": array(ddx), **(settings or {})}


record("leakyrelu", lambda x: F.leaky_relu(x, 0.01), (3, 4), {"scale": 0.01})
record("leakyrelu_scale", lambda x: F.leaky_relu(x, 0.2), (2, 3, 2), {"scale": 0.2})
record("elu", lambda x: F.elu(x, 1.0), (3, 4), {"alpha": 1.0})
record("elu_alpha", lambda x: F.elu(x, 0.5), (2, 3, 2), {"alpha": 0.5})
record("gelu", lambda x: F.gelu(x, approximate="none"), (3, 4))
record("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), (3, 4))

write("activations", cases)
