"""PyTorch references for maxpool (with indices), avgpool (padding counted or not) and
maxunpool in 1-D, 2-D and 3-D, with gradients.

Indices are PyTorch's: 0-based positions within each spatial plane, row-major.
"""

import torch
import torch.nn.functional as F

from fixture_common import array, gradients, randn, write

cases = {}


def max_case(name, x_shape, kernel, stride, padding):
    x = randn(*x_shape)
    pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[len(x_shape) - 2]
    y, indices = pool(x, kernel, stride, padding, return_indices=True)
    upstream, (dx,) = gradients(y, (x,))
    cases[name] = {"x": array(x), "y": array(y), "indices": array(indices.double()), "upstream": array(upstream),
                   "dx": array(dx), "kernel": kernel, "stride": stride, "padding": padding}


def avg_case(name, x_shape, kernel, stride, padding, count_include_pad=True):
    x = randn(*x_shape)
    pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[len(x_shape) - 2]
    y = pool(x, kernel, stride, padding, count_include_pad=count_include_pad)
    upstream, (dx,) = gradients(y, (x,))
    cases[name] = {"x": array(x), "y": array(y), "upstream": array(upstream), "dx": array(dx),
                   "kernel": kernel, "stride": stride, "padding": padding}


def unpool_case(name, x_shape, kernel, stride):
    x = randn(*x_shape, requires_grad=False)
    dims = len(x_shape) - 2
    pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[dims]
    unpool = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}[dims]
    _, indices = pool(x, kernel, stride, return_indices=True)
    v = randn(*indices.shape)
    y = unpool(v, indices, kernel, stride, output_size=x_shape[2:])
    upstream, (dv,) = gradients(y, (v,))
    cases[name] = {"v": array(v), "indices": array(indices.double()), "y": array(y), "upstream": array(upstream),
                   "dv": array(dv), "output_size": list(x_shape[2:])}


max_case("maxpool1d", (2, 3, 9), [3], [2], [1])
max_case("maxpool2d", (2, 2, 7, 6), [3, 2], [2, 1], [1, 0])
max_case("maxpool3d", (1, 2, 5, 4, 4), [2, 3, 2], [1, 2, 2], [1, 1, 0])
avg_case("avgpool1d", (2, 3, 8), [3], [2], [1])
avg_case("avgpool2d", (2, 2, 7, 6), [3, 3], [2, 2], [1, 1])
avg_case("avgpool2d_exclude_pad", (2, 2, 7, 6), [3, 3], [2, 1], [1, 1], count_include_pad=False)
avg_case("avgpool3d", (1, 2, 5, 4, 4), [2, 2, 3], [2, 1, 1], [1, 0, 1])
unpool_case("maxunpool1d", (2, 2, 7), [2], [2])
unpool_case("maxunpool2d", (2, 2, 5, 5), [2, 2], [2, 2])
unpool_case("maxunpool3d", (1, 2, 4, 4, 3), [2, 2, 1], [2, 2, 1])

write("pooling", cases)
