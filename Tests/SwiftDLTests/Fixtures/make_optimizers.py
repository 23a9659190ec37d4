"""PyTorch references for SwiftDL's optimizers over several steps of a fixed problem:
adamupdate against torch.optim.Adam, adamupdate after applyingDecoupledWeightDecay against AdamW,
rmspropupdate against RMSprop, sgdmupdate against SGD with momentum, and sgdmupdate after
addingL2Regularization against SGD with weight_decay.

The problem: parameters W [3, 2] and b [2], data X [5, 3] and targets Y [5, 2], all float64; the
loss is mean((tanh(X W + b) - Y)^2) over all elements. Every step computes the loss and gradients
at the current parameters, then takes one optimizer step. b has learn-rate factor 2 in SwiftDL's
tests: here it is in a parameter group with twice the learn rate, which is what the factor means.

The conventions differ, and the references are converted, or compared, only where they are equal:
- Adam: MATLAB (and SwiftDL) fold the bias correction into the learn rate and add epsilon to
  sqrt(v): p -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v) + eps). PyTorch adds its epsilon to
  sqrt(v)/sqrt(1-b2^t) instead. The steps are equal when PyTorch's epsilon is eps/sqrt(1-b2^t), so
  the script sets that epsilon before each step t. eps is 1e-3, large enough that its placement
  shows. The averages m (exp_avg) and v (exp_avg_sq) are defined alike.
- SGD with momentum: MATLAB's v = mu*v - lr*g; p += v. PyTorch's buf = mu*buf + g; p -= lr*buf.
  With a constant learn rate the parameters are equal and v = -lr*buf: the script stores -lr*buf
  (with each group's learn rate) as the velocity.
- RMSprop: both add epsilon outside the square root, p -= lr*g/(sqrt(v) + eps) with
  v = alpha*v + (1-alpha)*g^2, and start from v = 0; PyTorch's default alpha is 0.99 and MATLAB's
  0.9, so alpha is passed.
- AdamW multiplies p by (1 - lr*weight_decay) (with the group's learn rate) before the Adam step,
  as applyingDecoupledWeightDecay then adamupdate do; its epsilon is converted as for Adam.
- SGD's weight_decay adds weight_decay*p to the gradient before the momentum step, as
  addingL2Regularization does.

Stored per case: X, Y, W_0, b_0, the settings, and for each step t = 1...steps the loss before
the step (loss_t), the parameters after it (W_t, b_t) and the optimizer state after it
(<state>_W_t, <state>_b_t).

Run from the repository root with the peers' environment:
    .venv-peers/bin/python Tests/SwiftDLTests/Fixtures/make_optimizers.py
"""

import math

import torch

from fixture_common import array, write

STEPS = 6
X = torch.randn(5, 3)
Y = 0.5 * torch.randn(5, 2)
W0 = 0.5 * torch.randn(3, 2)
b0 = 0.1 * torch.randn(2)


def loss_of(W, b):
    return ((torch.tanh(X @ W + b) - Y) ** 2).mean()


def run(optimizer, settings, states, epsilon=None):
    """Runs STEPS steps of `optimizer` (made from two parameter groups: W, and b with twice the
    learn rate) and returns the case. `states` maps a stored name to a function of the PyTorch
    state of a parameter and its group's learn rate. `epsilon(t)`, if given, is the epsilon set
    before step t."""
    W = W0.clone().requires_grad_()
    b = b0.clone().requires_grad_()
    rate = settings["learnRate"]
    opt = optimizer([{"params": [W], "lr": rate}, {"params": [b], "lr": 2 * rate}])
    case = {"X": array(X), "Y": array(Y), "W_0": array(W0), "b_0": array(b0), "steps": STEPS, **settings}
    for t in range(1, STEPS + 1):
        opt.zero_grad()
        loss = loss_of(W, b)
        loss.backward()
        case[f"loss_{t}"] = loss.item()
        if epsilon is not None:
            for group in opt.param_groups:
                group["eps"] = epsilon(t)
        opt.step()
        case[f"W_{t}"] = array(W)
        case[f"b_{t}"] = array(b)
        for name, read in states.items():
            for parameter, group, tag in ((W, opt.param_groups[0], "W"), (b, opt.param_groups[1], "b")):
                case[f"{name}_{tag}_{t}"] = array(read(opt.state[parameter], group["lr"]))
    return case


cases = {}

adam = {"learnRate": 0.05, "gradientDecay": 0.9, "squaredGradientDecay": 0.999, "epsilon": 1e-3}
adam_states = {"averageGradient": lambda s, lr: s["exp_avg"], "averageSquaredGradient": lambda s, lr: s["exp_avg_sq"]}


def adam_epsilon(t):
    return adam["epsilon"] / math.sqrt(1 - adam["squaredGradientDecay"] ** t)


cases["adam"] = run(
    lambda groups: torch.optim.Adam(groups, betas=(adam["gradientDecay"], adam["squaredGradientDecay"]), foreach=False),
    adam, adam_states, epsilon=adam_epsilon)

adamw = {**adam, "decay": 0.1}
cases["adamw"] = run(
    lambda groups: torch.optim.AdamW(groups, betas=(adam["gradientDecay"], adam["squaredGradientDecay"]),
                                     weight_decay=adamw["decay"], foreach=False),
    adamw, adam_states, epsilon=adam_epsilon)

rmsprop = {"learnRate": 0.01, "squaredGradientDecay": 0.9, "epsilon": 1e-3}
cases["rmsprop"] = run(
    lambda groups: torch.optim.RMSprop(groups, alpha=rmsprop["squaredGradientDecay"], eps=rmsprop["epsilon"],
                                       foreach=False),
    rmsprop, {"averageSquaredGradient": lambda s, lr: s["square_avg"]})

sgdm = {"learnRate": 0.1, "momentum": 0.9}
velocity = {"velocity": lambda s, lr: -lr * s["momentum_buffer"]}
cases["sgdm"] = run(lambda groups: torch.optim.SGD(groups, momentum=sgdm["momentum"], foreach=False), sgdm, velocity)

sgdm_l2 = {**sgdm, "l2Factor": 0.05}
cases["sgdm_l2"] = run(
    lambda groups: torch.optim.SGD(groups, momentum=sgdm["momentum"], weight_decay=sgdm_l2["l2Factor"], foreach=False),
    sgdm_l2, velocity)

write("optimizers", cases)
