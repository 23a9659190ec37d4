"""The GAN training-step workloads in plain JAX: layers, batch norm, Adam, one step.

Defined in the README's "GAN training steps" sections; ``jax_bench.py`` times
them. Same networks, losses and optimizer as ``torch_gans.py``, written with
``jax.lax`` and ``jax.tree_util`` only (no flax or optax): parameters and
batch-norm running statistics are nested dicts, and a step is a pure function
``step(state, real) -> (state, (lossD, lossG))``.

Parameters are initialized like PyTorch's defaults: weights and biases
uniform in ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]`` (fan_in = in_features, or
in_channels * kh * kw; for a transposed conv PyTorch takes it from the
weight's second dimension, out_channels * kh * kw); batch-norm scale 1,
shift 0, running mean 0, running variance 1.

Every array is float32 even though ``jax_bench.py`` enables 64-bit types.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

import jax
import jax.numpy as jnp

#: Batch size and latent dimension of every GAN workload.
BATCH = 64
LATENT = 64

#: The GAN workloads this module defines.
KINDS = ("mlp", "dcgan", "wgan_gp")

Tree = Dict[str, Any]


# ----------------------------------------------------------------- layers

def _uniform(key: jax.Array, shape: Tuple[int, ...], fan_in: int) -> jax.Array:
    """PyTorch's default initialization: uniform in +-1/sqrt(fan_in), float32."""
    bound = 1.0 / math.sqrt(fan_in)
    return jax.random.uniform(key, shape, jnp.float32, -bound, bound)


def linear_init(key: jax.Array, n_in: int, n_out: int) -> Tree:
    """Weight [out, in] and bias [out], as PyTorch's nn.Linear."""
    kw, kb = jax.random.split(key)
    return {"w": _uniform(kw, (n_out, n_in), n_in), "b": _uniform(kb, (n_out,), n_in)}


def linear(p: Tree, x: jax.Array) -> jax.Array:
    """x @ W^T + b."""
    return x @ p["w"].T + p["b"]


def conv_init(key: jax.Array, c_in: int, c_out: int, k: int = 4) -> Tree:
    """Weight [out, in, k, k] and bias [out], as PyTorch's nn.Conv2d."""
    kw, kb = jax.random.split(key)
    fan_in = c_in * k * k
    return {"w": _uniform(kw, (c_out, c_in, k, k), fan_in), "b": _uniform(kb, (c_out,), fan_in)}


def conv(p: Tree, x: jax.Array) -> jax.Array:
    """Conv2d, stride 2, padding 1, NCHW (halves H and W for a 4x4 kernel)."""
    y = jax.lax.conv_general_dilated(
        x, p["w"], window_strides=(2, 2), padding=((1, 1), (1, 1)),
        dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return y + p["b"][None, :, None, None]


def conv_transpose_init(key: jax.Array, c_in: int, c_out: int, k: int = 4) -> Tree:
    """Weight [in, out, k, k] and bias [out], as PyTorch's nn.ConvTranspose2d."""
    kw, kb = jax.random.split(key)
    fan_in = c_out * k * k  # PyTorch computes fan_in from the weight's dimension 1
    return {"w": _uniform(kw, (c_in, c_out, k, k), fan_in), "b": _uniform(kb, (c_out,), fan_in)}


def conv_transpose(p: Tree, x: jax.Array) -> jax.Array:
    """ConvTranspose2d 4x4, stride 2, padding 1, NCHW (doubles H and W: 7 -> 14 -> 28).

    With ``transpose_kernel=True`` the [in, out, k, k] weight is read as the
    kernel of the forward conv whose input gradient this is, and PyTorch's
    padding p becomes lax padding k - 1 - p = 2 on each side; this equals
    ``torch.nn.functional.conv_transpose2d(x, w, b, stride=2, padding=1)``.
    """
    y = jax.lax.conv_transpose(
        x, p["w"], strides=(2, 2), padding=((2, 2), (2, 2)),
        dimension_numbers=("NCHW", "OIHW", "NCHW"), transpose_kernel=True)
    return y + p["b"][None, :, None, None]


def batch_norm_init(channels: int) -> Tuple[Tree, Tree]:
    """(parameters, running statistics) of a 2-D batch norm."""
    params = {"scale": jnp.ones(channels, jnp.float32), "shift": jnp.zeros(channels, jnp.float32)}
    stats = {"mean": jnp.zeros(channels, jnp.float32), "var": jnp.ones(channels, jnp.float32)}
    return params, stats


def batch_norm(p: Tree, stats: Tree, x: jax.Array,
               eps: float = 1e-5, momentum: float = 0.1) -> Tuple[jax.Array, Tree]:
    """Training-mode batch norm over N, H, W of NCHW ``x``, as PyTorch's BatchNorm2d.

    Normalizes with the batch mean and biased variance; returns the output
    and the updated running statistics (``(1 - momentum) * old + momentum *
    batch``, with the unbiased batch variance).
    """
    axes = (0, 2, 3)
    mean = jnp.mean(x, axis=axes)
    var = jnp.mean(jnp.square(x - mean[None, :, None, None]), axis=axes)
    y = (x - mean[None, :, None, None]) * jax.lax.rsqrt(var + eps)[None, :, None, None]
    y = y * p["scale"][None, :, None, None] + p["shift"][None, :, None, None]
    n = x.size // x.shape[1]
    mean, var = jax.lax.stop_gradient(mean), jax.lax.stop_gradient(var)
    new_stats = {"mean": (1 - momentum) * stats["mean"] + momentum * mean,
                 "var": (1 - momentum) * stats["var"] + momentum * var * (n / (n - 1))}
    return y, new_stats


def leaky_relu(x: jax.Array) -> jax.Array:
    """Leaky ReLU with slope 0.2."""
    return jnp.where(x >= 0, x, 0.2 * x)


# --------------------------------------------------------------- networks

class Network(NamedTuple):
    """``init(key) -> (params, stats)``; ``apply(params, stats, x) -> (y, stats)``."""

    init: Callable[[jax.Array], Tuple[Tree, Tree]]
    apply: Callable[[Tree, Tree, jax.Array], Tuple[jax.Array, Tree]]


def _mlp_g_init(key: jax.Array) -> Tuple[Tree, Tree]:
    k = jax.random.split(key, 3)
    return {"fc1": linear_init(k[0], LATENT, 256), "fc2": linear_init(k[1], 256, 256),
            "fc3": linear_init(k[2], 256, 784)}, {}


def _mlp_g_apply(p: Tree, stats: Tree, z: jax.Array) -> Tuple[jax.Array, Tree]:
    h = jax.nn.relu(linear(p["fc1"], z))
    h = jax.nn.relu(linear(p["fc2"], h))
    return jnp.tanh(linear(p["fc3"], h)), stats


def _mlp_d_init(key: jax.Array) -> Tuple[Tree, Tree]:
    k = jax.random.split(key, 3)
    return {"fc1": linear_init(k[0], 784, 256), "fc2": linear_init(k[1], 256, 256),
            "fc3": linear_init(k[2], 256, 1)}, {}


def _mlp_d_apply(p: Tree, stats: Tree, x: jax.Array) -> Tuple[jax.Array, Tree]:
    h = leaky_relu(linear(p["fc1"], x))
    h = leaky_relu(linear(p["fc2"], h))
    return linear(p["fc3"], h), stats


def _conv_g_init(key: jax.Array) -> Tuple[Tree, Tree]:
    k = jax.random.split(key, 3)
    bn1, bn1_stats = batch_norm_init(128)
    bn2, bn2_stats = batch_norm_init(64)
    params = {"fc": linear_init(k[0], LATENT, 128 * 7 * 7), "bn1": bn1,
              "convt1": conv_transpose_init(k[1], 128, 64), "bn2": bn2,
              "convt2": conv_transpose_init(k[2], 64, 1)}
    return params, {"bn1": bn1_stats, "bn2": bn2_stats}


def _conv_g_apply(p: Tree, stats: Tree, z: jax.Array) -> Tuple[jax.Array, Tree]:
    h = linear(p["fc"], z).reshape(z.shape[0], 128, 7, 7)
    h, bn1 = batch_norm(p["bn1"], stats["bn1"], h)
    h = conv_transpose(p["convt1"], jax.nn.relu(h))
    h, bn2 = batch_norm(p["bn2"], stats["bn2"], h)
    h = conv_transpose(p["convt2"], jax.nn.relu(h))
    return jnp.tanh(h), {"bn1": bn1, "bn2": bn2}


def _conv_d(batch_norm_layer: bool) -> Network:
    """The conv discriminator, with or without its batch norm."""

    def init(key: jax.Array) -> Tuple[Tree, Tree]:
        k = jax.random.split(key, 3)
        params = {"conv1": conv_init(k[0], 1, 64), "conv2": conv_init(k[1], 64, 128),
                  "fc": linear_init(k[2], 128 * 7 * 7, 1)}
        stats: Tree = {}
        if batch_norm_layer:
            params["bn"], stats["bn"] = batch_norm_init(128)
        return params, stats

    def apply(p: Tree, stats: Tree, x: jax.Array) -> Tuple[jax.Array, Tree]:
        h = leaky_relu(conv(p["conv1"], x))
        h = conv(p["conv2"], h)
        if batch_norm_layer:
            h, bn = batch_norm(p["bn"], stats["bn"], h)
            stats = {"bn": bn}
        h = leaky_relu(h).reshape(x.shape[0], -1)
        return linear(p["fc"], h), stats

    return Network(init, apply)


# ------------------------------------------------------------ loss, Adam

def bce_with_logits(logits: jax.Array, target: float) -> jax.Array:
    """Mean binary cross-entropy of sigmoid(logits) against a constant target."""
    return jnp.mean(jnp.maximum(logits, 0) - logits * target
                    + jnp.log1p(jnp.exp(-jnp.abs(logits))))


class Adam(NamedTuple):
    """Adam with PyTorch's update rule (bias-corrected moments, eps outside the sqrt)."""

    lr: float
    b1: float
    b2: float
    eps: float = 1e-8

    def init(self, params: Tree) -> Tree:
        """Zero moments and step count 0."""
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return {"m": zeros, "v": zeros, "t": jnp.zeros((), jnp.float32)}

    def update(self, params: Tree, grads: Tree, opt: Tree) -> Tuple[Tree, Tree]:
        """One step; returns the new parameters and optimizer state."""
        t = opt["t"] + 1
        tm = jax.tree_util.tree_map
        m = tm(lambda m, g: self.b1 * m + (1 - self.b1) * g, opt["m"], grads)
        v = tm(lambda v, g: self.b2 * v + (1 - self.b2) * g * g, opt["v"], grads)
        c1, c2 = 1 - self.b1 ** t, 1 - self.b2 ** t
        params = tm(lambda p, m, v: p - self.lr * (m / c1) / (jnp.sqrt(v / c2) + self.eps),
                    params, m, v)
        return params, {"m": m, "v": v, "t": t}


# ------------------------------------------------------------------ step

class GAN(NamedTuple):
    """One GAN workload: its networks, optimizer and real-image shape."""

    generator: Network
    discriminator: Network
    adam: Adam
    wasserstein: bool
    image_shape: Tuple[int, ...]


def gan(kind: str) -> GAN:
    """The definition of one GAN kind ("mlp", "dcgan" or "wgan_gp")."""
    if kind == "mlp":
        return GAN(Network(_mlp_g_init, _mlp_g_apply), Network(_mlp_d_init, _mlp_d_apply),
                   Adam(2e-4, 0.5, 0.999), False, (784,))
    conv_g = Network(_conv_g_init, _conv_g_apply)
    if kind == "dcgan":
        return GAN(conv_g, _conv_d(True), Adam(2e-4, 0.5, 0.999), False, (1, 28, 28))
    if kind == "wgan_gp":
        return GAN(conv_g, _conv_d(False), Adam(1e-4, 0.5, 0.9), True, (1, 28, 28))
    raise ValueError(f"unknown GAN kind {kind!r}; known: {', '.join(KINDS)}")


def init_state(model: GAN, key: jax.Array) -> Tree:
    """Parameters, running statistics, Adam states and the RNG key of a GAN."""
    kg, kd, key = jax.random.split(key, 3)
    g, g_stats = model.generator.init(kg)
    d, d_stats = model.discriminator.init(kd)
    return {"g": g, "g_stats": g_stats, "d": d, "d_stats": d_stats,
            "g_opt": model.adam.init(g), "d_opt": model.adam.init(d), "key": key}


def update(model: GAN, state: Tree, real: jax.Array, z1: jax.Array, z2: jax.Array,
           eps: Optional[jax.Array] = None) -> Tuple[Tree, Tuple[jax.Array, jax.Array]]:
    """One alternating step with given noise: D update with ``z1``, then G update with ``z2``.

    ``eps`` (shape [N, 1, 1, 1]) is the WGAN-GP interpolation weight (only
    used, and only needed, for WGAN-GP). Returns the new state and ``(lossD, lossG)``.
    """
    g_apply, d_apply = model.generator.apply, model.discriminator.apply

    # 1. Discriminator update; the fakes are constants, but G runs in training
    #    mode (its batch norms use batch statistics and update running stats).
    fake, g_stats = g_apply(state["g"], state["g_stats"], z1)
    fake = jax.lax.stop_gradient(fake)

    def loss_d(d: Tree, d_stats: Tree) -> Tuple[jax.Array, Tree]:
        score_real, d_stats = d_apply(d, d_stats, real)
        score_fake, d_stats = d_apply(d, d_stats, fake)
        if not model.wasserstein:
            return bce_with_logits(score_real, 1.0) + bce_with_logits(score_fake, 0.0), d_stats
        xhat = eps * real + (1 - eps) * fake
        g = jax.grad(lambda x: jnp.sum(d_apply(d, d_stats, x)[0]))(xhat)
        norms = jnp.sqrt(jnp.sum(jnp.square(g), axis=(1, 2, 3)) + 1e-10)
        penalty = jnp.mean(jnp.square(norms - 1))
        return jnp.mean(score_fake) - jnp.mean(score_real) + 10 * penalty, d_stats

    (lossD, d_stats), grads = jax.value_and_grad(loss_d, has_aux=True)(
        state["d"], state["d_stats"])
    d, d_opt = model.adam.update(state["d"], grads, state["d_opt"])

    # 2. Generator update through the updated D; gradients for G's parameters only.
    def loss_g(g: Tree) -> Tuple[jax.Array, Tuple[Tree, Tree]]:
        images, new_g_stats = g_apply(g, g_stats, z2)
        score, new_d_stats = d_apply(d, d_stats, images)
        loss = -jnp.mean(score) if model.wasserstein else bce_with_logits(score, 1.0)
        return loss, (new_g_stats, new_d_stats)

    (lossG, (g_stats, d_stats)), grads = jax.value_and_grad(loss_g, has_aux=True)(state["g"])
    g, g_opt = model.adam.update(state["g"], grads, state["g_opt"])

    new_state = {"g": g, "g_stats": g_stats, "d": d, "d_stats": d_stats,
                 "g_opt": g_opt, "d_opt": d_opt, "key": state["key"]}
    return new_state, (lossD, lossG)


def make_step(model: GAN) -> Callable[[Tree, jax.Array], Tuple[Tree, Tuple[jax.Array, jax.Array]]]:
    """``step(state, real)``: one step with fresh noise drawn from the state's key."""

    def step(state: Tree, real: jax.Array) -> Tuple[Tree, Tuple[jax.Array, jax.Array]]:
        key, k1, k2, k3 = jax.random.split(state["key"], 4)
        z1 = jax.random.normal(k1, (BATCH, LATENT), jnp.float32)
        eps = (jax.random.uniform(k2, (BATCH, 1, 1, 1), jnp.float32)
               if model.wasserstein else None)
        z2 = jax.random.normal(k3, (BATCH, LATENT), jnp.float32)
        return update(model, {**state, "key": key}, real, z1, z2, eps)

    return step
