"""PyTorch references for softmax, logsoftmax, the losses (crossentropy, indexcrossentropy,
binarycrossentropy on logits, mse, l1loss, l2loss, huber) and embed.

MATLAB's losses sum and divide by the batch size by default ("batch-size"), so the references
use PyTorch's reduction="sum" divided by the batch size; "all-elements" cases use
reduction="mean". MATLAB's crossentropy takes probabilities: the chained cases feed
softmax(z) to SwiftDL and compare with PyTorch's cross_entropy(z, ...) and its gradient with
respect to the logits z; the direct cases differentiate with respect to the probabilities p
through nll_loss(log p) and binary_cross_entropy(p).

Arrays are stored row-major in PyTorch's layout, which is SwiftDL's canonical one ("BC",
"BCS", "TBC").
"""

import torch
import torch.nn.functional as F

from fixture_common import array, gradient_case, gradients, randn, write

cases = {}


# softmax / log_softmax over the channel dimension (dim 1 of "BC" and "BCS"), with large logits.
x = randn(3, 4)
with torch.no_grad():
    x[0] *= 40  # large values: the stable form must not overflow
gradient_case(cases, "softmax_bc", F.softmax(x, dim=1), [x], ["x"])
gradient_case(cases, "logsoftmax_bc", F.log_softmax(x, dim=1), [x], ["x"])
x = randn(2, 3, 5)
gradient_case(cases, "softmax_bcs", F.softmax(x, dim=1), [x], ["x"])
gradient_case(cases, "logsoftmax_bcs", F.log_softmax(x, dim=1), [x], ["x"])

# crossentropy with soft targets, through softmax: loss = cross_entropy(z, t, sum) / B.
z, t = randn(4, 5), torch.softmax(randn(4, 5, requires_grad=False) * 2, dim=1).requires_grad_()
loss = F.cross_entropy(z, t, reduction="sum") / 4
dz, dt = torch.autograd.grad(loss, (z, t))
cases["crossentropy_soft"] = {"z": array(z), "t": array(t), "loss": loss.item(), "dz": array(dz), "dt": array(dt)}

# Spatial ("BCS") single-label with one-hot targets, normalized by all elements (positions).
z = randn(2, 3, 4)
idx = torch.randint(0, 3, (2, 4))
loss = F.cross_entropy(z, idx, reduction="mean")
(dz,) = torch.autograd.grad(loss, (z,))
cases["crossentropy_spatial_all"] = {"z": array(z), "idx": array(idx), "loss": loss.item(), "dz": array(dz)}

# indexcrossentropy directly on probabilities p: nll_loss(log p, idx) with class weights, the
# MATLAB way (sum of weighted terms / batch size, not PyTorch's weighted mean).
p = torch.softmax(randn(5, 4, requires_grad=False), dim=1).requires_grad_()
idx = torch.tensor([0, 3, 1, 3, 2])
w = torch.tensor([0.5, 2.0, 1.0, 1.5])
loss = F.nll_loss(torch.log(p), idx, weight=w, reduction="sum") / 5
(dp,) = torch.autograd.grad(loss, (p,))
cases["indexcrossentropy_weighted"] = {"p": array(p), "idx": array(idx), "w": array(w), "loss": loss.item(),
                                       "dp": array(dp)}
unweighted = F.nll_loss(torch.log(p), idx, reduction="none")
cases["indexcrossentropy_weighted"]["none"] = array(unweighted)

# indexcrossentropy through softmax on a sequence "TBC" [T=3, B=2, C=4]: PyTorch wants
# [N, C, d], so the time dimension moves last.
z = randn(3, 2, 4)
idx = torch.randint(0, 4, (3, 2))
loss = F.cross_entropy(z.permute(1, 2, 0), idx.permute(1, 0), reduction="sum") / 2
(dz,) = torch.autograd.grad(loss, (z,))
cases["indexcrossentropy_sequence"] = {"z": array(z), "idx": array(idx), "loss": loss.item(), "dz": array(dz)}

# multilabel crossentropy on probabilities: binary_cross_entropy(p, t, sum) / B.
p = torch.sigmoid(randn(3, 4, requires_grad=False)).requires_grad_()
t = torch.rand(3, 4).requires_grad_()
loss = F.binary_cross_entropy(p, t, reduction="sum") / 3
dp, dt = torch.autograd.grad(loss, (p, t))
cases["crossentropy_multilabel"] = {"p": array(p), "t": array(t), "loss": loss.item(), "dp": array(dp), "dt": array(dt)}

# binary cross-entropy on logits, including ±100 and ±1000.
x = randn(3, 4)
with torch.no_grad():
    x[0, 0], x[0, 1], x[1, 2], x[2, 3] = 100.0, -100.0, 1000.0, -1000.0
t = torch.rand(3, 4).requires_grad_()
loss = F.binary_cross_entropy_with_logits(x, t, reduction="sum") / 3
dx, dt = torch.autograd.grad(loss, (x, t))
mean = F.binary_cross_entropy_with_logits(x, t, reduction="mean")
none = F.binary_cross_entropy_with_logits(x, t, reduction="none")
cases["binarycrossentropy_logits"] = {"x": array(x), "t": array(t), "loss": loss.item(), "dx": array(dx),
                                      "dt": array(dt), "mean": mean.item(), "none": array(none)}

# Regression losses on "BCS" [B=2, C=3, S=4].
y, t = randn(2, 3, 4), randn(2, 3, 4)
for name, fn in [("mse", lambda a, b: F.mse_loss(a, b, reduction="sum") / (2 * 2)),
                 ("l1loss", lambda a, b: F.l1_loss(a, b, reduction="sum") / 2),
                 ("l2loss", lambda a, b: F.mse_loss(a, b, reduction="sum") / 2),
                 ("huber", lambda a, b: F.huber_loss(a, b, reduction="sum", delta=0.7) / 2),
                 ("l1loss_all", lambda a, b: F.l1_loss(a, b, reduction="mean")),
                 ("l2loss_all", lambda a, b: F.mse_loss(a, b, reduction="mean")),
                 ("huber_all", lambda a, b: F.huber_loss(a, b, reduction="mean", delta=0.7))]:
    loss = fn(y, t)
    dy, dt = torch.autograd.grad(loss, (y, t))
    cases[name] = {"y": array(y), "t": array(t), "loss": loss.item(), "dy": array(dy), "dt": array(dt),
                   "delta": 0.7}
cases["huber_none"] = {"none": array(F.huber_loss(y, t, reduction="none", delta=0.7))}

# embed: indices [T=3, B=2] ("TB"), weights [numWords=5, E=4] → [3, 2, 4] ("TBC").
weights = randn(5, 4)
idx = torch.tensor([[0, 4], [2, 2], [4, 1]])
y = F.embedding(idx, weights)
upstream, (dw,) = gradients(y, (weights,))
cases["embedding"] = {"idx": array(idx), "weights": array(weights), "y": array(y), "upstream": array(upstream),
                      "dweights": array(dw)}

write("losses", cases)
