"""Reference dtype conversions from torch for test/safetensors/dtype.test.ts.

Usage: dtype_reference.py IN_F32_BITS.bin OUT_DIR
Reads little-endian uint32 float32 bit patterns, writes torch's `.to(bfloat16)` and `.to(float16)`
bits (uint16), and the float32 bits of every bfloat16 and float16 pattern (uint32).
"""
import sys

import numpy as np
import torch

src, out = sys.argv[1], sys.argv[2]
f32 = torch.from_numpy(np.fromfile(src, dtype="<u4").view(np.float32).copy())
f32.to(torch.bfloat16).view(torch.int16).numpy().astype("<u2").tofile(f"{out}/to_bf16.bin")
f32.to(torch.float16).view(torch.int16).numpy().astype("<u2").tofile(f"{out}/to_f16.bin")
every = torch.arange(65536, dtype=torch.int32).to(torch.int16)
every.view(torch.bfloat16).to(torch.float32).view(torch.int32).numpy().astype("<u4").tofile(f"{out}/from_bf16.bin")
every.view(torch.float16).to(torch.float32).view(torch.int32).numpy().astype("<u4").tofile(f"{out}/from_f16.bin")
