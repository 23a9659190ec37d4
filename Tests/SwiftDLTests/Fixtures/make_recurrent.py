"""PyTorch references for lstm and gru (whole sequences, initial states, every gradient).

SwiftDL's layouts are MATLAB's memory read row-major: input weights [inputSize, G*hidden]
(PyTorch's weight_ih transposed), recurrent weights [hidden, G*hidden] (weight_hh transposed),
the gates in MATLAB's order, which is PyTorch's too (LSTM: input, forget, cell, output;
GRU: reset, update, candidate). The LSTM bias is bias_ih + bias_hh; the GRU bias of MATLAB's
"recurrent-bias-after-multiplication" mode (PyTorch's GRU) is bias_ih followed by bias_hh.

Gradients are those of sum(y * uy) + sum(hn * uh) [+ sum(cn * uc)] for stored random upstreams.
"""

import torch

from fixture_common import array, randn, write

cases = {}
T, B, C, H = 4, 3, 3, 2


def lstm_case(name):
    layer = torch.nn.LSTM(C, H).double()
    x, h0, c0 = randn(T, B, C), randn(B, H), randn(B, H)
    y, (hn, cn) = layer(x, (h0[None], c0[None]))
    hn, cn = hn[0], cn[0]
    uy, uh, uc = torch.randn_like(y), torch.randn_like(hn), torch.randn_like(cn)
    params = (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0)
    loss = (y * uy).sum() + (hn * uh).sum() + (cn * uc).sum()
    dx, dh0, dc0, dwi, dwh, db = torch.autograd.grad(loss, (x, h0, c0) + params)
    cases[name] = {
        "x": array(x), "h0": array(h0), "c0": array(c0),
        "w": array(layer.weight_ih_l0.t()), "r": array(layer.weight_hh_l0.t()),
        "b": array(layer.bias_ih_l0 + layer.bias_hh_l0),
        "y": array(y), "hn": array(hn), "cn": array(cn),
        "uy": array(uy), "uh": array(uh), "uc": array(uc),
        "dx": array(dx), "dh0": array(dh0), "dc0": array(dc0),
        "dw": array(dwi.t()), "dr": array(dwh.t()), "db": array(db),
    }


def gru_torch_case(name, recurrent_bias):
    """PyTorch's GRU: MATLAB's "recurrent-bias-after-multiplication"; with bias_hh = 0, it is
    MATLAB's "after-multiplication" with the 3H bias bias_ih."""
    layer = torch.nn.GRU(C, H).double()
    if not recurrent_bias:
        with torch.no_grad():
            layer.bias_hh_l0.zero_()
    x, h0 = randn(T, B, C), randn(B, H)
    y, hn = layer(x, h0[None])
    hn = hn[0]
    uy, uh = torch.randn_like(y), torch.randn_like(hn)
    params = (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)
    loss = (y * uy).sum() + (hn * uh).sum()
    dx, dh0, dwi, dwh, dbi, dbh = torch.autograd.grad(loss, (x, h0) + params)
    b = torch.cat([layer.bias_ih_l0, layer.bias_hh_l0]) if recurrent_bias else layer.bias_ih_l0
    db = torch.cat([dbi, dbh]) if recurrent_bias else dbi
    cases[name] = {
        "x": array(x), "h0": array(h0), "w": array(layer.weight_ih_l0.t()), "r": array(layer.weight_hh_l0.t()),
        "b": array(b), "y": array(y), "hn": array(hn), "uy": array(uy), "uh": array(uh),
        "dx": array(dx), "dh0": array(dh0), "dw": array(dwi.t()), "dr": array(dwh.t()), "db": array(db),
    }


def gru_before_case(name):
    """MATLAB's "before-multiplication": the candidate is tanh(x W_h + b_h + (r * h) R_h),
    written out with torch operations (PyTorch's GRU has no such mode)."""
    x, h0 = randn(T, B, C), randn(B, H)
    w, r, b = randn(C, 3 * H), randn(H, 3 * H), randn(3 * H)
    h, ys = h0, []
    for t in range(T):
        p = x[t] @ w + b
        q = h @ r[:, : 2 * H]
        reset = torch.sigmoid(p[:, :H] + q[:, :H])
        update = torch.sigmoid(p[:, H : 2 * H] + q[:, H:])
        candidate = torch.tanh(p[:, 2 * H :] + (reset * h) @ r[:, 2 * H :])
        h = (1 - update) * candidate + update * h
        ys.append(h)
    y = torch.stack(ys)
    uy, uh = torch.randn_like(y), torch.randn_like(h)
    loss = (y * uy).sum() + (h * uh).sum()
    dx, dh0, dw, dr, db = torch.autograd.grad(loss, (x, h0, w, r, b))
    cases[name] = {
        "x": array(x), "h0": array(h0), "w": array(w), "r": array(r), "b": array(b),
        "y": array(y), "hn": array(h), "uy": array(uy), "uh": array(uh),
        "dx": array(dx), "dh0": array(dh0), "dw": array(dw), "dr": array(dr), "db": array(db),
    }


lstm_case("lstm")
gru_torch_case("gru_recurrent_bias", True)
gru_torch_case("gru_after", False)
gru_before_case("gru_before")

write("recurrent", cases)
