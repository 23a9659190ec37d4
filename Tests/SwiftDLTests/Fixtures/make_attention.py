"""PyTorch references for attention (multi-head scaled dot-product attention, MATLAB's
`attention`).

Queries, keys and values are stored as SwiftDL's "TBC" [time, batch, channels] (MATLAB's
"CBT"). The head split is written out explicitly: the channels of each position are viewed as
[numHeads, depth], so head h takes channels h*depth ..< (h+1)*depth, the split of MATLAB and of
PyTorch's MultiheadAttention. The output and weights come from
F.scaled_dot_product_attention and an explicit softmax; one case also goes through
F.multi_head_attention_forward with identity projections, an independent check of the split.

Weights are stored [batch, heads, queries, keys]. Gradients are those of
sum(output * upstream) + sum(weights * upstreamWeights) w.r.t. queries, keys and values.
"""

import math

import torch
import torch.nn.functional as F

from fixture_common import array, randn, write

cases = {}


def split_heads(x, heads):
    """[T, B, H*d] -> [B, H, T, d]."""
    t, b, c = x.shape
    return x.reshape(t, b, heads, c // heads).permute(1, 2, 0, 3)


def merge_heads(x):
    """[B, H, T, d] -> [T, B, H*d]."""
    b, h, t, d = x.shape
    return x.permute(2, 0, 1, 3).reshape(t, b, h * d)


def reference(q, k, v, heads, scale=None, allowed=None):
    """Output [T, B, C'] and weights [B, H, Tq, Tk]; allowed is a bool [B or 1, 1, Tq, Tk]."""
    qh, kh, vh = split_heads(q, heads), split_heads(k, heads), split_heads(v, heads)
    if scale is None:
        scale = 1 / math.sqrt(qh.shape[-1])
    out = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=allowed, scale=scale)
    scores = qh @ kh.transpose(-1, -2) * scale
    if allowed is not None:
        scores = scores.masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return merge_heads(out), weights


def case(name, tq, tk, batch, channels, value_channels, heads, scale=None, mask=None):
    q, k, v = randn(tq, batch, channels), randn(tk, batch, channels), randn(tk, batch, value_channels)
    entry = {"q": array(q), "k": array(k), "v": array(v), "heads": heads}
    allowed = None
    if mask == "causal":
        allowed = torch.ones(tq, tk, dtype=torch.bool).tril().reshape(1, 1, tq, tk)
    elif mask == "custom":
        allowed = torch.rand(batch, tq, tk) > 0.4
        allowed[:, :, 0] = True  # every query may attend to something
        entry["mask"] = array(allowed.to(torch.float64))
        allowed = allowed.reshape(batch, 1, tq, tk)
    if scale is not None:
        entry["scale"] = scale
    y, w = reference(q, k, v, heads, scale, allowed)
    uy, uw = torch.randn_like(y), torch.randn_like(w)
    dq, dk, dv = torch.autograd.grad((y * uy).sum() + (w * uw).sum(), (q, k, v))
    entry.update({"y": array(y), "w": array(w), "uy": array(uy), "uw": array(uw),
                  "dq": array(dq), "dk": array(dk), "dv": array(dv)})
    cases[name] = entry
    return q, k, v, y, w


case("single_head", 3, 4, 2, 4, 4, 1)
q, k, v, y, w = case("two_heads", 4, 5, 2, 6, 6, 2)
case("value_channels", 3, 5, 2, 6, 9, 3, scale=0.3)
case("causal", 4, 4, 2, 4, 6, 2, mask="causal")
case("custom_mask", 3, 5, 2, 4, 4, 2, mask="custom")

# The same two-head case through PyTorch's multi-head attention with identity projections.
e = q.shape[-1]
eye, zeros = torch.eye(e), torch.zeros(3 * e)
mha_y, mha_w = F.multi_head_attention_forward(
    q, k, v, e, 2, in_proj_weight=None, in_proj_bias=zeros, bias_k=None, bias_v=None, add_zero_attn=False,
    dropout_p=0.0, out_proj_weight=eye, out_proj_bias=torch.zeros(e), training=False, need_weights=True,
    use_separate_proj_weight=True, q_proj_weight=eye, k_proj_weight=eye, v_proj_weight=eye,
    average_attn_weights=False)
assert torch.allclose(mha_y, y) and torch.allclose(mha_w, w), "head split differs from MultiheadAttention"
cases["two_heads"]["mha_y"] = array(mha_y)
cases["two_heads"]["mha_w"] = array(mha_w)

write("attention", cases)
