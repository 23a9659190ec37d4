"""PyTorch references for batchnorm (training, with the running-statistics update, and
inference), layernorm, groupnorm and instancenorm.

Arrays are stored in SwiftDL's canonical order: "BCSS" as (N, C, H, W), "BC" as (N, C) and
"TBC" as (T, N, C); the script permutes them into PyTorch's (N, C, ...) where needed.

Besides the gradients of sum(y * upstream) with respect to x, scale (w) and offset (b), each
case stores `ddx`, the gradient with respect to x of sum(dx * v) for a fixed random `v`: a
Hessian-vector product, an independent check of the second derivative.

Running statistics: PyTorch's `momentum` is the weight of the new batch statistic,
    running = (1 - momentum) * running + momentum * batch,
which is MATLAB's `MeanDecay`/`VarianceDecay` convention (s = phi * s_batch + (1 - phi) * s).
The running variance is updated with the unbiased batch variance (times M / (M - 1)).
"""

import torch
import torch.nn.functional as F

from fixture_common import array, randn, write

cases = {}


def record(name, forward, x, w, b, extra=None, settings=None):
    """Runs `forward(x, w, b)`, takes gradients and a Hessian-vector product, stores the case."""
    y = forward(x, w, b)
    upstream = torch.randn_like(y)
    dx, dw, db = torch.autograd.grad((y * upstream).sum(), (x, w, b), create_graph=True)
    v = torch.randn_like(x)
    (ddx,) = torch.autograd.grad((dx * v).sum(), (x,), allow_unused=True)
    if ddx is None:  # dx does not depend on x (inference): the second derivative is zero
        ddx = torch.zeros_like(x)
    entry = {"x": array(x), "w": array(w), "b": array(b), "y": array(y), "upstream": array(upstream),
             "dx": array(dx), "dw": array(dw), "db": array(db), "v": array(v), "ddx": array(ddx)}
    entry.update(extra or {})
    entry.update(settings or {})
    cases[name] = entry


def to_torch(x, layout):
    """Canonical SwiftDL layout to PyTorch's (N, C, ...)."""
    return x.permute(1, 2, 0) if layout == "TBC" else x


def from_torch(y, layout):
    return y.permute(2, 0, 1) if layout == "TBC" else y


def batchnorm_training(name, shape, layout, momentum=0.1, eps=1e-5):
    channels = shape[-1] if layout == "TBC" else shape[1]
    x, w, b = randn(*shape), randn(channels), randn(channels)
    running_mean = torch.randn(channels)
    running_var = torch.rand(channels) + 0.5
    updated_mean, updated_var = running_mean.clone(), running_var.clone()

    def forward(x, w, b):
        # The running statistics are updated in place; work on fresh copies for each call.
        m, v = running_mean.clone(), running_var.clone()
        y = F.batch_norm(to_torch(x, layout), m, v, w, b, training=True, momentum=momentum, eps=eps)
        updated_mean.copy_(m)
        updated_var.copy_(v)
        return from_torch(y, layout)

    record(name, forward, x, w, b,
           extra={"runningMean": array(running_mean), "runningVariance": array(running_var)},
           settings={"decay": momentum, "epsilon": eps})
    cases[name]["updatedMean"] = array(updated_mean)
    cases[name]["updatedVariance"] = array(updated_var)


def batchnorm_inference(name, shape, layout, eps=1e-5):
    channels = shape[-1] if layout == "TBC" else shape[1]
    x, w, b = randn(*shape), randn(channels), randn(channels)
    mean, var = torch.randn(channels), torch.rand(channels) + 0.5

    def forward(x, w, b):
        return from_torch(F.batch_norm(to_torch(x, layout), mean, var, w, b, training=False, eps=eps), layout)

    record(name, forward, x, w, b, extra={"mean": array(mean), "variance": array(var)}, settings={"epsilon": eps})


def per_channel(t, channel_dim, rank):
    """A [C] parameter shaped to broadcast along `channel_dim` of a rank-`rank` array."""
    shape = [1] * rank
    shape[channel_dim] = -1
    return t.reshape(shape)


def normalized(x, dims, eps=1e-5):
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def layernorm(name, shape, layout, mode):
    """MATLAB's layernorm: per-observation statistics, per-channel scale and offset."""
    channel_dim = {"BCSS": 1, "BC": 1, "TBC": 2}[layout]
    channels = shape[channel_dim]
    x, w, b = randn(*shape), randn(channels), randn(channels)
    rank = len(shape)

    def forward(x, w, b):
        if layout == "BC":
            return F.layer_norm(x, (channels,), w, b, eps=1e-5)
        if layout == "TBC" and mode == "auto":
            return F.layer_norm(x, (channels,), w, b, eps=1e-5)   # over C only: T is excluded
        if layout == "BCSS" and mode == "auto":
            return F.group_norm(x, 1, w, b, eps=1e-5)           # over C and S: one group
        dims = {("TBC", "batch-excluded"): [0, 2], ("BCSS", "channel-only"): [1]}[(layout, mode)]
        return normalized(x, dims) * per_channel(w, channel_dim, rank) + per_channel(b, channel_dim, rank)

    record(name, forward, x, w, b, settings={"mode": mode})


def groupnorm(name, shape, layout, groups):
    channels = shape[-1] if layout == "TBC" else shape[1]
    x, w, b = randn(*shape), randn(channels), randn(channels)

    def forward(x, w, b):
        return from_torch(F.group_norm(to_torch(x, layout), groups, w, b, eps=1e-5), layout)

    record(name, forward, x, w, b, settings={"groups": groups})


def instancenorm(name, shape, layout):
    channels = shape[-1] if layout == "TBC" else shape[1]
    x, w, b = randn(*shape), randn(channels), randn(channels)

    def forward(x, w, b):
        return from_torch(F.instance_norm(to_torch(x, layout), weight=w, bias=b, eps=1e-5), layout)

    record(name, forward, x, w, b)


batchnorm_training("batchnorm_train_BCSS", (3, 2, 4, 3), "BCSS")
batchnorm_training("batchnorm_train_BC", (6, 3), "BC")
batchnorm_training("batchnorm_train_TBC", (4, 3, 2), "TBC")
batchnorm_training("batchnorm_train_BC_decay", (5, 4), "BC", momentum=0.3, eps=1e-3)
batchnorm_inference("batchnorm_inference_BCSS", (2, 3, 3, 2), "BCSS")
batchnorm_inference("batchnorm_inference_TBC", (3, 2, 4), "TBC")
layernorm("layernorm_BCSS", (2, 3, 3, 2), "BCSS", "auto")
layernorm("layernorm_BC", (4, 5), "BC", "auto")
layernorm("layernorm_TBC", (3, 2, 4), "TBC", "auto")
layernorm("layernorm_TBC_batch_excluded", (3, 2, 4), "TBC", "batch-excluded")
layernorm("layernorm_BCSS_channel_only", (2, 3, 2, 2), "BCSS", "channel-only")
groupnorm("groupnorm_BCSS", (2, 4, 3, 2), "BCSS", 2)
groupnorm("groupnorm_TBC", (3, 2, 6), "TBC", 3)
groupnorm("groupnorm_BC", (3, 4), "BC", 2)
instancenorm("instancenorm_BCSS", (2, 3, 4, 3), "BCSS")
instancenorm("instancenorm_TBC", (5, 2, 3), "TBC")

write("normalization", cases)
