"""PyTorch references for dlconv and dltranspconv (1-D, 2-D, 3-D; stride, padding, dilation,
groups, depthwise; transposed with stride and cropping)."""

import torch.nn.functional as F

from fixture_common import array, gradients, randn, write

cases = {}


def conv_case(name, x_shape, w_shape, stride, padding, dilation, groups):
    x, w, b = randn(*x_shape), randn(*w_shape), randn(w_shape[0])
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(x_shape) - 2]
    y = conv(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    upstream, (dx, dw, db) = gradients(y, (x, w, b))
    cases[name] = {"x": array(x), "w": array(w), "b": array(b), "y": array(y), "upstream": array(upstream),
                   "dx": array(dx), "dw": array(dw), "db": array(db),
                   "stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


def transposed_case(name, x_shape, w_shape, stride, padding, dilation, groups):
    x, w, b = randn(*x_shape), randn(*w_shape), randn(w_shape[1] * groups)
    conv = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[len(x_shape) - 2]
    y = conv(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    upstream, (dx, dw, db) = gradients(y, (x, w, b))
    cases[name] = {"x": array(x), "w": array(w), "b": array(b), "y": array(y), "upstream": array(upstream),
                   "dx": array(dx), "dw": array(dw), "db": array(db),
                   "stride": stride, "cropping": padding, "dilation": dilation, "groups": groups}


conv_case("conv1d", (2, 3, 9), (4, 3, 3), [2], [1], [1], 1)
conv_case("conv2d", (2, 3, 7, 6), (4, 3, 3, 2), [2, 1], [1, 0], [1, 1], 1)
conv_case("conv2d_dilated", (1, 2, 9, 9), (3, 2, 3, 3), [1, 2], [2, 1], [2, 2], 1)
conv_case("conv2d_groups", (2, 4, 6, 6), (6, 2, 3, 3), [1, 1], [1, 1], [1, 1], 2)
conv_case("conv2d_depthwise", (2, 3, 5, 5), (6, 1, 3, 3), [2, 2], [1, 1], [1, 1], 3)
conv_case("conv3d", (1, 2, 5, 4, 4), (3, 2, 2, 3, 2), [1, 2, 1], [1, 1, 0], [1, 1, 1], 1)
transposed_case("transpconv1d", (2, 3, 5), (3, 2, 4), [2], [1], [1], 1)
transposed_case("transpconv2d", (2, 4, 4, 3), (4, 3, 4, 3), [2, 1], [1, 0], [1, 1], 1)
transposed_case("transpconv2d_groups", (1, 4, 3, 3), (4, 2, 3, 3), [2, 2], [0, 1], [1, 1], 2)
transposed_case("transpconv3d", (1, 2, 3, 3, 2), (2, 2, 2, 3, 2), [2, 1, 2], [0, 1, 0], [1, 1, 1], 1)

write("convolution", cases)
