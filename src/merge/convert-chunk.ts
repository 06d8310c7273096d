import {MergeError} from '../errors.js'
import {dtypeBytes, f16ToF32Bits, f32BitsToBf16, f32BitsToF16, type SafetensorsDtype} from '../safetensors/dtype.js'

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
 * the output dtype. Works in passes over typed arrays (fast in V8); the float32 multiply runs on
 * the CPU as torch's does, so NaN payloads and Inf x 0 come out as torch's x86 results. Pure.
 */
export function convertChunk(src: Uint8Array, c: Conversion): Uint8Array {
  if (isRawCopy(c)) {
    return src
  }
  const from = c.sourceDtype as Narrow
  const load = c.loadDtype as Narrow
  const to = c.outputDtype as Narrow
  const n = src.byteLength / dtypeBytes(from)
  const bits = widenAll(src, from, n)
  if (load !== from) {
    roundAll(bits, load)
  }
  if (c.scale !== undefined) {
    const values = new Float32Array(bits.buffer, bits.byteOffset, n)
    const scale = Math.fround(c.scale)
    for (let i = 0; i < n; i++) {
      values[i] = (values[i] as number) * scale
    }
    if (load !== to) {
      // Back to the load dtype first (torch keeps the product in it); when the output dtype is
      // the load dtype, narrowAll below does this same rounding.
      roundAll(bits, load)
    }
  }
  return narrowAll(bits, to)
}

/** float32 bits of every element (a fresh array: later passes work in place). */
function widenAll(src: Uint8Array, from: Narrow, n: number): Uint32Array {
  const out = new Uint32Array(n)
  if (from === 'F32') {
    new Uint8Array(out.buffer).set(src)
    return out
  }
  const aligned = src.byteOffset % 2 === 0 ? src : src.slice()
  const in16 = new Uint16Array(aligned.buffer, aligned.byteOffset, n)
  if (from === 'BF16') {
    for (let i = 0; i < n; i++) {
      out[i] = (in16[i] as number) << 16
    }
  } else {
    for (let i = 0; i < n; i++) {
      out[i] = f16ToF32Bits(in16[i] as number)
    }
  }
  return out
}

/** Rounds float32 bits to `dtype` in place (kept as float32 bits, exact after the rounding). */
function roundAll(bits: Uint32Array, dtype: Narrow): void {
  if (dtype === 'BF16') {
    for (let i = 0; i < bits.length; i++) {
      bits[i] = f32BitsToBf16(bits[i] as number) << 16
    }
  } else if (dtype === 'F16') {
    for (let i = 0; i < bits.length; i++) {
      bits[i] = f16ToF32Bits(f32BitsToF16(bits[i] as number))
    }
  }
}

/** The output bytes of float32 bits (already representable in `to` or rounded here). */
function narrowAll(bits: Uint32Array, to: Narrow): Uint8Array {
  if (to === 'F32') {
    return new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength)
  }
  const out = new Uint16Array(bits.length)
  if (to === 'BF16') {
    for (let i = 0; i < bits.length; i++) {
      out[i] = f32BitsToBf16(bits[i] as number)
    }
  } else {
    for (let i = 0; i < bits.length; i++) {
      out[i] = f32BitsToF16(bits[i] as number)
    }
  }
  return new Uint8Array(out.buffer)
}
