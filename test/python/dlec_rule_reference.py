"""Re-implementation of the original DLEC analyze_layer rule (notebook version, literature.md §1) in
torch, run on the activations dlec stored.

argv: values.f32 (float32 little-endian), labels.i32 (int32, one label per value), num_bins, and
optionally "corrected": dlec's corrected variant (fraction of |a| above mean + 2 std, float64)
stdout: [{"label", "q", "fraction", "beneficial"}] in label order"""
import json
import sys

import numpy as np
import torch

values = torch.from_numpy(np.fromfile(sys.argv[1], dtype="<f4"))
labels = np.fromfile(sys.argv[2], dtype="<i4")
num_bins = int(sys.argv[3])


def analyze_layer(activations):
    a = activations.abs()
    mean, std = a.mean(), a.std()  # torch std: unbiased
    _unused = mean + 2 * std
    hist = torch.histc(a, bins=num_bins, min=0, max=a.max().item())
    cdf = torch.cumsum(hist, 0) / a.numel()
    q = torch.nonzero(cdf >= 0.95)[0][0].item() / num_bins
    z = (a - mean) / std
    fraction = (z >= q).float().mean().item()
    return q, fraction, fraction >= 0.05


def corrected(activations):
    a = activations.double().abs()
    threshold = a.mean() + 2 * a.std()
    fraction = (a > threshold).double().mean().item()
    return threshold.item(), fraction, fraction >= 0.05


rule = corrected if len(sys.argv) > 4 and sys.argv[4] == "corrected" else analyze_layer
out = []
for label in sorted(set(labels.tolist())):
    q, fraction, beneficial = rule(values[torch.from_numpy(labels == label)])
    out.append({"label": label, "q": q, "fraction": fraction, "beneficial": bool(beneficial)})
json.dump(out, sys.stdout)
