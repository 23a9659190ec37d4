"""PyTorch references for the functions of MATLAB's dlarray list that PyTorch also has:
torch.fft.fft / ifft, hypot, remainder (MATLAB's mod) and fmod (rem), triu / tril, diff,
roll (circshift), linalg.vector_norm (vecnorm), one_hot (onehotencode), interpolate
(dlresize), local_response_norm (crosschannelnorm) and ctc_loss (ctc).

Complex arrays are stored as two real arrays, "<name>_re" and "<name>_im". Gradients are
those of sum(real(output * conj(upstream))), PyTorch's convention for complex inputs, which
is SwiftDL's (the conjugate Wirtinger gradient).
"""

import torch
import torch.nn.functional as F

from fixture_common import array, gradient_case, gradients, randn, write

cases = {}


def complex_entry(entry, name, t):
    entry[name + "_re"] = array(t.real)
    entry[name + "_im"] = array(t.imag)


def fourier(name, x, transform, **kwargs):
    y = transform(x, **kwargs)
    upstream = torch.randn_like(y)
    (dx,) = torch.autograd.grad((y * upstream.conj()).real.sum(), (x,))
    entry = {}
    for key, value in (("x", x), ("y", y), ("upstream", upstream), ("dx", dx)):
        if value.is_complex():
            complex_entry(entry, key, value)
        else:
            entry[key] = array(value)
    entry.update({k: v for k, v in kwargs.items()})
    cases[name] = entry


# FFT: complex input along the last and first dimensions, padded and cut; real input; a prime
# length (Bluestein's or Rader's algorithm in FFTW) and an inverse.
z = torch.randn(3, 5, dtype=torch.complex128, requires_grad=True)
fourier("fft_last", z, torch.fft.fft, dim=1)
fourier("fft_first", z, torch.fft.fft, dim=0)
fourier("fft_pad", z, torch.fft.fft, n=8, dim=1)
fourier("fft_cut", z, torch.fft.fft, n=3, dim=1)
fourier("ifft_last", z, torch.fft.ifft, dim=1)
fourier("ifft_pad_first", z, torch.fft.ifft, n=4, dim=0)
fourier("fft_real", randn(2, 6), torch.fft.fft, dim=1)
fourier("fft_prime", torch.randn(2, 3, 13, dtype=torch.complex128, requires_grad=True), torch.fft.fft, dim=2)

# Elementwise binary functions, broadcasting a column against a row.
a, b = randn(3, 1) * 3, randn(4) + 0.5
gradient_case(cases, "hypot", torch.hypot(a, b), [a, b], ["a", "b"])
a = (randn(3, 4, requires_grad=False) * 5).requires_grad_()
b = torch.tensor([1.5, -2.0, 0.7, -0.3], requires_grad=True)
gradient_case(cases, "mod", torch.remainder(a, b), [a, b], ["a", "b"])
gradient_case(cases, "rem", torch.fmod(a, b), [a, b], ["a", "b"])

# Shapes and differences.
x = randn(2, 3, 4)
for k in (-1, 0, 2):
    gradient_case(cases, f"triu_{k}".replace("-", "m"), torch.triu(x, k), [x], ["x"], k=k)
    gradient_case(cases, f"tril_{k}".replace("-", "m"), torch.tril(x, k), [x], ["x"], k=k)
x = randn(4, 5)
gradient_case(cases, "diff_last", torch.diff(x, n=1, dim=1), [x], ["x"])
gradient_case(cases, "diff_second_first", torch.diff(x, n=2, dim=0), [x], ["x"])
gradient_case(cases, "roll", torch.roll(x, shifts=(2, -1), dims=(0, 1)), [x], ["x"], shifts=[2, -1], dims=[0, 1])
gradient_case(cases, "roll_large", torch.roll(x, shifts=7, dims=1), [x], ["x"], shifts=[7], dims=[1])

# vecnorm along one dimension (keeping it).
x = randn(3, 4)
for p in (1, 2, 3):
    gradient_case(cases, f"vecnorm_p{p}", torch.linalg.vector_norm(x, ord=p, dim=1, keepdim=True), [x], ["x"], p=p)
gradient_case(cases, "vecnorm_pinf_dim0", torch.linalg.vector_norm(x, ord=float("inf"), dim=0, keepdim=True), [x], ["x"])

# one_hot: class indices of shape [2, 3] → [2, 3, 4].
indices = torch.tensor([[0, 3, 1], [2, 2, 0]])
cases["one_hot"] = {"indices": array(indices), "y": array(F.one_hot(indices, 4))}

# interpolate (dlresize): "BCSS" images and a "BCS" sequence.
x = randn(1, 2, 3, 4)
gradient_case(cases, "resize_bilinear_scale2", F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False), [x], ["x"])
gradient_case(cases, "resize_bilinear_size", F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=False), [x], ["x"],
          size=[5, 7])
gradient_case(cases, "resize_bilinear_down", F.interpolate(x, size=(2, 3), mode="bilinear", align_corners=False), [x], ["x"],
          size=[2, 3])
gradient_case(cases, "resize_nearest_scale2", F.interpolate(x, scale_factor=2, mode="nearest"), [x], ["x"])
gradient_case(cases, "resize_nearest_size", F.interpolate(x, size=(5, 7), mode="nearest"), [x], ["x"], size=[5, 7])
gradient_case(cases, "resize_nearest_exact_size", F.interpolate(x, size=(5, 7), mode="nearest-exact"), [x], ["x"], size=[5, 7])
x = randn(2, 3, 5)
gradient_case(cases, "resize_linear_1d", F.interpolate(x, size=8, mode="linear", align_corners=False), [x], ["x"], size=[8])

# local_response_norm (crosschannelnorm) over the channels of "BCSS" data.
x = randn(2, 6, 3, 3)
gradient_case(cases, "lrn_3", F.local_response_norm(x, 3, alpha=1e-2, beta=0.75, k=2.0), [x], ["x"], size=3)
gradient_case(cases, "lrn_4", F.local_response_norm(x, 4, alpha=0.5, beta=0.6, k=1.5), [x], ["x"], size=4, alpha=0.5,
          beta=0.6, k=1.5)

# ctc_loss on log_softmax(z), per observation, with an empty target, repeats and a short input.
T, B, C = 6, 4, 5
z = randn(T, B, C)
targets = [[1, 2, 2], [3], [], [4, 1, 4, 2]]
flat = torch.tensor([c for t in targets for c in t])
input_lengths = torch.tensor([6, 5, 6, 6])
target_lengths = torch.tensor([len(t) for t in targets])
loss = F.ctc_loss(F.log_softmax(z, dim=2), flat, input_lengths, target_lengths, blank=0, reduction="none")
upstream, (dz,) = gradients(loss, (z,))
cases["ctc"] = {"z": array(z), "loss": array(loss), "upstream": array(upstream), "dz": array(dz),
                "flat_targets": flat.tolist(), "target_lengths": target_lengths.tolist(),
                "input_lengths": input_lengths.tolist()}
# The last class as blank.
flat_last = torch.tensor([c - 1 for t in targets for c in t])
loss = F.ctc_loss(F.log_softmax(z, dim=2), flat_last, input_lengths, target_lengths, blank=C - 1, reduction="none")
cases["ctc_blank_last"] = {"z": array(z), "loss": array(loss)}

write("functions", cases)
