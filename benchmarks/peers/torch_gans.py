"""The GAN training-step workloads in PyTorch: networks, losses, one alternating step.

Defined in the README's "GAN training steps" sections; ``torch_bench.py``
times them. Three kinds:

* ``"mlp"``: fully connected G and D, non-saturating loss (BCE on logits);
* ``"dcgan"``: convolutional G and D (batch norm in both), same loss;
* ``"wgan_gp"``: the same G, D without batch norm, Wasserstein loss with
  gradient penalty (double backward).

One step is alternating gradient descent: a discriminator update with G's
fakes as constants, then a generator update through the updated D, in which
only G's parameters get gradients (``torch.autograd.grad`` with G's
parameters as inputs).
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import torch
from torch import nn
import torch.nn.functional as F

#: Batch size and latent dimension of every GAN workload.
BATCH = 64
LATENT = 64

#: The GAN workloads this module defines.
KINDS = ("mlp", "dcgan", "wgan_gp")


def mlp_generator() -> nn.Module:
    """G: 64 -> 256 -> 256 -> 784, ReLU, ReLU, tanh."""
    return nn.Sequential(
        nn.Linear(LATENT, 256), nn.ReLU(),
        nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, 784), nn.Tanh(),
    )


def mlp_discriminator() -> nn.Module:
    """D: 784 -> 256 -> 256 -> 1 (a logit), leaky ReLU 0.2."""
    return nn.Sequential(
        nn.Linear(784, 256), nn.LeakyReLU(0.2),
        nn.Linear(256, 256), nn.LeakyReLU(0.2),
        nn.Linear(256, 1),
    )


def conv_generator() -> nn.Module:
    """G: fc to 128x7x7, BN, ReLU, convT to 64x14x14, BN, ReLU, convT to 1x28x28, tanh."""
    return nn.Sequential(
        nn.Linear(LATENT, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)),
        nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1),
        nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Tanh(),
    )


def conv_discriminator(batch_norm: bool) -> nn.Module:
    """D: conv to 64x14x14, lrelu, conv to 128x7x7, [BN], lrelu, fc to 1 (a logit)."""
    layers: List[nn.Module] = [
        nn.Conv2d(1, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, stride=2, padding=1),
    ]
    if batch_norm:
        layers.append(nn.BatchNorm2d(128))
    layers += [nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(128 * 7 * 7, 1)]
    return nn.Sequential(*layers)


class GANStep:
    """Networks, optimizers and a fixed real batch for one GAN kind.

    Calling the object runs one training step on the fixed real batch and
    returns ``(lossD, lossG)`` as Python floats (which also waits for the
    work). ``update`` runs a step with given noise, for checks.
    """

    def __init__(self, kind: str, seed: int = 0) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown GAN kind {kind!r}; known: {', '.join(KINDS)}")
        self.kind = kind
        torch.manual_seed(seed)
        if kind == "mlp":
            self.g, self.d = mlp_generator(), mlp_discriminator()
            self.image_shape: Tuple[int, ...] = (784,)
        else:
            self.g = conv_generator()
            self.d = conv_discriminator(batch_norm=(kind == "dcgan"))
            self.image_shape = (1, 28, 28)
        self.g.train()
        self.d.train()
        lr, betas = (1e-4, (0.5, 0.9)) if kind == "wgan_gp" else (2e-4, (0.5, 0.999))
        self.g_params = list(self.g.parameters())
        self.d_params = list(self.d.parameters())
        self.g_opt = torch.optim.Adam(self.g_params, lr=lr, betas=betas, eps=1e-8)
        self.d_opt = torch.optim.Adam(self.d_params, lr=lr, betas=betas, eps=1e-8)
        self.real = torch.rand(BATCH, *self.image_shape) * 2 - 1
        self.ones = torch.ones(BATCH, 1)
        self.zeros = torch.zeros(BATCH, 1)

    def __call__(self) -> Tuple[float, float]:
        """One step on the fixed real batch, with fresh noise from torch's RNG."""
        z1 = torch.randn(BATCH, LATENT)
        eps = torch.rand(BATCH, 1, 1, 1) if self.kind == "wgan_gp" else None
        z2 = torch.randn(BATCH, LATENT)
        return self.update(self.real, z1, z2, eps)

    def update(self, real: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor,
               eps: Optional[torch.Tensor] = None) -> Tuple[float, float]:
        """One alternating step: D update with noise ``z1``, then G update with ``z2``.

        ``eps`` (shape [N, 1, 1, 1]) is the WGAN-GP interpolation weight.
        Returns ``(lossD, lossG)``.
        """
        # 1. Discriminator update; the fakes are constants (no graph through G),
        #    but G runs in training mode (its batch norms update running stats).
        with torch.no_grad():
            fake = self.g(z1)
        score_real, score_fake = self.d(real), self.d(fake)
        if self.kind == "wgan_gp":
            xhat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            (g,) = torch.autograd.grad(self.d(xhat).sum(), xhat, create_graph=True)
            norms = torch.sqrt(g.square().sum(dim=(1, 2, 3)) + 1e-10)
            penalty = (norms - 1).square().mean()
            loss_d = score_fake.mean() - score_real.mean() + 10 * penalty
        else:
            loss_d = (F.binary_cross_entropy_with_logits(score_real, self.ones)
                      + F.binary_cross_entropy_with_logits(score_fake, self.zeros))
        _descend(self.d_opt, self.d_params, loss_d)

        # 2. Generator update through the updated D; gradients for G's parameters only.
        score = self.d(self.g(z2))
        if self.kind == "wgan_gp":
            loss_g = -score.mean()
        else:
            loss_g = F.binary_cross_entropy_with_logits(score, self.ones)
        _descend(self.g_opt, self.g_params, loss_g)
        return loss_d.item(), loss_g.item()


def _descend(optimizer: torch.optim.Optimizer, params: List[torch.Tensor],
             loss: torch.Tensor) -> None:
    """One optimizer step on ``params`` with the gradient of ``loss`` w.r.t. them only."""
    grads = torch.autograd.grad(loss, params)
    for p, g in zip(params, grads):
        p.grad = g
    optimizer.step()
