import {MergeError} from '../errors.js'
import {
  bf16ToF32Bits,
  dtypeBytes,
  f16ToF32Bits,
  f32BitsToBf16,
  f32BitsToF16,
  float32Bits,
  float32FromBits,
  type SafetensorsDtype,
} from '../safetensors/dtype.js'

export interface Conversion {
  sourceDtype: SafetensorsDtype
  loadDtype: SafetensorsDtype
  outputDtype: SafetensorsDtype
  scale?: number
}

type Narrow = 'F32' | 'BF16' | 'F16'

/** True when the bytes pass through untouched. */
export function isRawCopy(c: Conversion): boolean {
  return c.scale === undefined && c.sourceDtype === c.loadDtype && c.loadDtype === c.outputDtype
}

/** Throws a MergeError unless the native engine can perform `c` bit-exactly like torch. */
export function checkConversion(c: Conversion, tensor: string): void {
  if (isRawCopy(c)) {
    return
  }
  for (const dtype of [c.sourceDtype, c.loadDtype, c.outputDtype]) {
    if (dtype !== 'F32' && dtype !== 'BF16' && dtype !== 'F16') {
      throw new MergeError(
        `tensor ${tensor}: converting or scaling ${dtype} is not supported by the native engine (F32, BF16, F16 only); use --engine mergekit`,
      )
    }
  }
}

/**
 * Converts whole elements of a tensor exactly as mergekit + torch do: cast to the load dtype
 * (round to nearest even), multiply by `scale` in float32 and round back to the load dtype, cast to
 * the output dtype. NaN and the Inf x 0 case follow torch's x86 CPU results. Pure.
 */
export function convertChunk(src: Uint8Array, c: Conversion): Uint8Array {
  if (isRawCopy(c)) {
    return src
  }
  const from = c.sourceDtype as Narrow
  const load = c.loadDtype as Narrow
  const to = c.outputDtype as Narrow
  const inBytes = dtypeBytes(from)
  const n = src.byteLength / inBytes
  const aligned = src.byteOffset % 4 === 0 ? src : src.slice()
  const in32 = from === 'F32' ? new Uint32Array(aligned.buffer, aligned.byteOffset, n) : undefined
  const in16 = from === 'F32' ? undefined : new Uint16Array(aligned.buffer, aligned.byteOffset, n)
  const out = new Uint8Array(n * dtypeBytes(to))
  const out32 = to === 'F32' ? new Uint32Array(out.buffer) : undefined
  const out16 = to === 'F32' ? undefined : new Uint16Array(out.buffer)
  const scale = c.scale === undefined ? undefined : Math.fround(c.scale)
  for (let i = 0; i < n; i++) {
    let bits = in32 ? (in32[i] ?? 0) : widen(in16?.[i] ?? 0, from)
    if (load !== from) {
      bits = roundTo(bits, load)
    }
    if (scale !== undefined) {
      bits = roundTo(multiply(bits, scale), load)
    }
    if (out32) {
      out32[i] = bits
    } else if (out16) {
      out16[i] = to === 'BF16' ? f32BitsToBf16(bits) : f32BitsToF16(bits)
    }
  }
  return out
}

/** f32 bits of a 16-bit float. */
function widen(bits: number, dtype: Narrow): number {
  return dtype === 'BF16' ? bf16ToF32Bits(bits) : f16ToF32Bits(bits)
}

/** f32 bits rounded to `dtype` and widened back (exact after the rounding). */
function roundTo(bits: number, dtype: Narrow): number {
  switch (dtype) {
    case 'F32':
      return bits
    case 'BF16':
      return bf16ToF32Bits(f32BitsToBf16(bits))
    case 'F16':
      return f16ToF32Bits(f32BitsToF16(bits))
  }
}

/** float32 multiply as x86 does it: a NaN operand comes back quieted, Inf x 0 gives the default NaN. */
function multiply(bits: number, scale: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) {
    return (bits | 0x00400000) >>> 0
  }
  const product = float32FromBits(bits) * scale
  if (Number.isNaN(product)) {
    return 0xffc00000
  }
  return float32Bits(product)
}
