#!/usr/bin/env python3
"""Loads a generator written by `gan export` into the equivalent PyTorch module and checks that
PyTorch computes what SwiftDL computed.

    export_check.py RUN_DIR_OR_FILE [--tolerance 1e-5]

RUN_DIR_OR_FILE is a run directory (its generator.safetensors) or the file `gan export` wrote.
The module is built from the settings in the file's metadata (architecture, data set, latent
and hidden sizes, image size), as PyTorch code would define it; the weights are loaded with
`module.load_state_dict(safetensors.torch.load_file(FILE), strict=True)`; the module runs in
eval mode (batch normalization with its running statistics) on the latent vectors of
FILE's check file (generator.check.safetensors beside it), and its outputs must equal the
outputs SwiftDL wrote there to the tolerance times their largest magnitude (float32). A
conditional generator (metadata `class_count`) takes the check file's classes as well: its
label is embedded (`nn.Embedding`), for the convolutional generators projected to one plane
(`nn.Linear` and `nn.Unflatten`), and concatenated with the main branch along dimension 1
where SwiftDL's `joinLabel` layer joins them.
Exit status 0 when they agree, 1 when they do not, 2 for a missing or unreadable file.

Needs torch and safetensors (`pip install torch safetensors`; CPU wheels:
`pip install torch --index-url https://download.pytorch.org/whl/cpu`).
"""
import argparse
import json
import os
import sys
from collections import OrderedDict

try:
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file
    from torch import nn
except ImportError as missing:
    print("export_check: %s; install torch and safetensors (pip install torch safetensors)" % missing)
    sys.exit(2)


def transposed_convolution(name, inputs, outputs, kernel, stride, cropping):
    """SwiftDL's transposed convolution as PyTorch modules: `cropping` is an integer (the same
    on both sides, PyTorch's padding) or "same" (a total of kernel - stride, the odd one after,
    which PyTorch's symmetric padding cannot express: one more row and column are cut after)."""
    if cropping == "same":
        total = kernel - stride
        before, after = total // 2, total - total // 2
    else:
        before = after = cropping
    layers = [(name, nn.ConvTranspose2d(inputs, outputs, kernel, stride=stride, padding=before))]
    if after > before:
        extra = after - before
        layers.append(("%s_crop" % name, nn.ZeroPad2d((0, -extra, 0, -extra))))
    return layers


class ConditionalGenerator(nn.Module):
    """A generator with a label branch (GANConditioning.swift): `before` reads the latent
    vectors, `branch` the class indices; their outputs are concatenated along dimension 1 (the
    label's last) and `after` reads the result. The modules keep SwiftDL's layer names."""

    def __init__(self, before, branch, after):
        super().__init__()
        for name, module in before + branch + after:
            self.add_module(name, module)
        self.parts = [[name for name, _ in part] for part in (before, branch, after)]

    def forward(self, latents, classes):
        x, label = latents, classes.long().reshape(-1)
        for name in self.parts[0]:
            x = getattr(self, name)(x)
        for name in self.parts[1]:
            label = getattr(self, name)(label)
        x = torch.cat([x, label], 1)
        for name in self.parts[2]:
            x = getattr(self, name)(x)
        return x


def generator(metadata):
    """The PyTorch module of the generator `gan export` describes (GANArchitecture.swift)."""
    architecture = metadata["architecture"]
    latent, hidden = int(metadata["latent_size"]), int(metadata["hidden_size"])
    image = int(metadata["image_size"])
    planar = json.loads(metadata["output_shape"]) == [2]
    classes = int(metadata["class_count"]) if "class_count" in metadata else None
    embedding = int(metadata.get("embedding_size", "0"))
    # A conditional generator's label joins the main branch where the first layer that reads
    # it is made: the MLP's first linear layer (embedding_size more inputs), or the first
    # transposed convolution (one more channel, the label's plane).
    joined_inputs = 0 if classes is None else (embedding if architecture == "mlp" else 1)
    layers = []
    if architecture == "mlp" and planar:
        widths = [latent, hidden, hidden, hidden]
        for k in range(3):
            layers += [("fc%d" % (k + 1), nn.Linear(widths[k], widths[k + 1])), ("relu%d" % (k + 1), nn.ReLU())]
        layers.append(("fc4", nn.Linear(hidden, 2)))
    elif architecture == "mlp":
        layers = [("fc1", nn.Linear(latent + joined_inputs, 256)), ("relu1", nn.ReLU()),
                  ("fc2", nn.Linear(256, 256)), ("relu2", nn.ReLU()),
                  ("fc3", nn.Linear(256, 784)), ("tanh", nn.Tanh()),
                  ("image", nn.Unflatten(1, (1, 28, 28)))]
    elif architecture == "dcgan":
        layers = [("project", nn.Linear(latent, 128 * 7 * 7)), ("project_reshape", nn.Unflatten(1, (128, 7, 7))),
                  ("bn1", nn.BatchNorm2d(128)), ("relu1", nn.ReLU())]
        layers += transposed_convolution("tconv1", 128 + joined_inputs, 64, 4, 2, 1)
        layers += [("bn2", nn.BatchNorm2d(64)), ("relu2", nn.ReLU())]
        layers += transposed_convolution("tconv2", 64, 1, 4, 2, 1)
        layers.append(("tanh", nn.Tanh()))
    elif architecture == "matlab":
        small = image == 28
        channels, side = (256, 7) if small else (512, 4)
        layers = [("project", nn.Linear(latent, channels * side * side)),
                  ("project_reshape", nn.Unflatten(1, (channels, side, side)))]
        widths = [128, 64] if small else [256, 128, 64]
        for index, width in enumerate(widths):
            n = index + 1
            stride = 1 if index == 0 else 2
            cropping = ("same" if small else 0) if index == 0 else "same"
            joined = joined_inputs if index == 0 else 0
            layers += transposed_convolution("tconv%d" % n, channels + joined, width, 5, stride, cropping)
            layers += [("bn%d" % n, nn.BatchNorm2d(width)), ("relu%d" % n, nn.ReLU())]
            channels = width
        layers += transposed_convolution("tconv%d" % (len(widths) + 1), channels, 1, 5, 2, "same")
        layers.append(("tanh", nn.Tanh()))
    else:
        raise ValueError("unknown architecture %r" % architecture)
    if classes is None:
        return nn.Sequential(OrderedDict(layers))
    join = 0 if architecture == "mlp" else next(i for i, (name, _) in enumerate(layers) if name.startswith("tconv"))
    branch = [("labelEmbedding", nn.Embedding(classes, embedding))]
    if architecture != "mlp":
        side = 7 if architecture == "dcgan" or image == 28 else 4
        branch += [("labelPlane", nn.Linear(embedding, side * side)),
                   ("labelPlane_reshape", nn.Unflatten(1, (1, side, side)))]
    return ConditionalGenerator(layers[:join], branch, layers[join:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="a run directory or the file gan export wrote")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    arguments = parser.parse_args()
    path = arguments.path
    if os.path.isdir(path):
        path = os.path.join(path, "generator.safetensors")
    check = os.path.splitext(path)[0] + ".check.safetensors"
    for file in (path, check):
        if not os.path.isfile(file):
            print("export_check: there is no file %s (run gan export --from RUN_DIR first)" % file)
            return 2
    with safe_open(path, framework="pt") as file:
        metadata = file.metadata()
    module = generator(metadata)
    state = load_file(path)
    try:
        # strict=True: every tensor of the module's state_dict must be in the file with its
        # shape, and nothing else (num_batches_tracked, float32 there, is copied into the
        # module's int64 buffer).
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        print("export_check: %s does not fit the %s module: %s" % (path, metadata["architecture"], " ".join(str(error).split())))
        return 1
    module.eval()
    checks = load_file(check)
    latents, expected = checks["latents"], checks["outputs"]
    with torch.no_grad():
        actual = module(latents, checks["classes"]) if "class_count" in metadata else module(latents)
    if actual.shape != expected.shape:
        print("export_check: PyTorch's outputs have shape %s, SwiftDL's %s" % (list(actual.shape), list(expected.shape)))
        return 1
    scale = max(expected.abs().max().item(), sys.float_info.min)
    difference = (actual - expected).abs()
    worst = difference.max().item()
    summary = "%s generator (%s, %s of iteration %s): %d tensors loaded with strict=True; %d outputs of shape %s" % (
        metadata["architecture"], metadata["dataset"], metadata["weights"], metadata["iteration"], len(state),
        expected.shape[0], list(expected.shape[1:]))
    if not worst <= arguments.tolerance * scale:
        index = torch.nonzero(difference > arguments.tolerance * scale)[0].tolist()
        print("export_check: %s; they differ at %s: PyTorch %r, SwiftDL %r (largest difference %.3g, %.3g of the largest output)" % (
            summary, index, actual[tuple(index)].item(), expected[tuple(index)].item(), worst, worst / scale))
        return 1
    print("%s agree with SwiftDL's to %.2g of the largest output (tolerance %g)" % (summary, worst / scale, arguments.tolerance))
    return 0


if __name__ == "__main__":
    sys.exit(main())
