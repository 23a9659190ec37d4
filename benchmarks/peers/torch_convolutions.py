"""The convolution workloads in PyTorch: one float32 4x4 stride-2 convolution or
transposed convolution (padding 1) with its bias, forward and backward.

Defined in the README's "workloads" section; ``torch_bench.py`` times them and
``gan_flops.py`` counts their FLOPs for ``compare.py``'s roofline table.
"""

from __future__ import annotations

from typing import Callable, Dict, Tuple

import torch
import torch.nn.functional as F

#: Workload name -> (input shape, weight shape as PyTorch lays it out, bias size,
#: transposed, output shape).
CONVOLUTIONS: Dict[str, Tuple[tuple, tuple, int, bool, tuple]] = {
    "conv_fwd_bwd_ms": ((64, 64, 14, 14), (128, 64, 4, 4), 128, False, (64, 128, 7, 7)),
    "transpconv_fwd_bwd_ms": ((64, 128, 7, 7), (128, 64, 4, 4), 64, True, (64, 64, 14, 14)),
    # A DCGAN's outer layers: the discriminator's first convolution, the generator's last.
    "conv1to64_fwd_bwd_ms": ((64, 1, 28, 28), (64, 1, 4, 4), 64, False, (64, 64, 14, 14)),
    "transpconv64to1_fwd_bwd_ms": ((64, 64, 14, 14), (64, 1, 4, 4), 1, True, (64, 1, 28, 28)),
}


class Convolution:
    """One convolution workload: its inputs (seeded), and ``__call__`` runs the forward pass
    and the gradients with respect to the input, the weights and the bias of the output
    times a fixed upstream gradient."""

    def __init__(self, name: str) -> None:
        x_shape, w_shape, bias, transposed, out_shape = CONVOLUTIONS[name]
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(*x_shape, generator=gen).requires_grad_(True)
        self.w = (torch.randn(*w_shape, generator=gen) * 0.05).requires_grad_(True)
        self.b = torch.randn(bias, generator=gen).requires_grad_(True)
        self.forward: Callable[..., torch.Tensor] = (
            (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1)) if transposed
            else (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1)))
        with torch.no_grad():
            shape = tuple(self.forward(self.x, self.w, self.b).shape)
        if shape != out_shape:
            raise AssertionError(f"{name}: output shape {shape}, expected {out_shape}")
        self.upstream = torch.randn(out_shape, dtype=torch.float32, generator=torch.Generator().manual_seed(1))

    def __call__(self) -> Tuple[torch.Tensor, ...]:
        out = self.forward(self.x, self.w, self.b)
        return torch.autograd.grad(out, (self.x, self.w, self.b), grad_outputs=self.upstream)
