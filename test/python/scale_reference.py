"""torch reference for dlec's convert-chunk: x.to(load) * scale -> .to(out), as mergekit does it.

Usage: scale_reference.py IN_F32_BITS.bin OUT_DIR SCALE
Writes OUT_DIR/<load>_<out>.bin for load in (float32, bfloat16, float16) and out in the same set,
the input being the float32 bit patterns in IN_F32_BITS.bin.
"""
import sys

import numpy as np
import torch

src, out, scale = sys.argv[1], sys.argv[2], float(sys.argv[3])
x = torch.from_numpy(np.fromfile(src, dtype="<u4").view(np.float32).copy())
names = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
for ln, load in names.items():
    y = x.to(load) * scale
    for on, dt in names.items():
        z = y.to(dt)
        raw = z.view(torch.int32 if dt == torch.float32 else torch.int16).numpy()
        raw.astype("<u4" if dt == torch.float32 else "<u2").tofile(f"{out}/{ln}_{on}.bin")
