/**
 * The safetensors dtype table: element size, ONNX TensorProto code, the torch / mergekit name, and
 * the rank the safetensors library sorts tensors by when it writes a file (descending rank, then
 * name). Ranks follow the declaration order of the `Dtype` enum in huggingface/safetensors.
 */
export const SAFETENSORS_DTYPES = {
  BOOL: {bytes: 1, onnx: 9, torch: 'bool', rank: 0},
  U8: {bytes: 1, onnx: 2, torch: 'uint8', rank: 4},
  I8: {bytes: 1, onnx: 3, torch: 'int8', rank: 5},
  F8_E5M2: {bytes: 1, onnx: 19, torch: 'float8_e5m2', rank: 6},
  F8_E4M3: {bytes: 1, onnx: 17, torch: 'float8_e4m3fn', rank: 7},
  I16: {bytes: 2, onnx: 5, torch: 'int16', rank: 9},
  U16: {bytes: 2, onnx: 4, torch: 'uint16', rank: 10},
  F16: {bytes: 2, onnx: 10, torch: 'float16', rank: 11},
  BF16: {bytes: 2, onnx: 16, torch: 'bfloat16', rank: 12},
  I32: {bytes: 4, onnx: 6, torch: 'int32', rank: 13},
  U32: {bytes: 4, onnx: 12, torch: 'uint32', rank: 14},
  F32: {bytes: 4, onnx: 1, torch: 'float32', rank: 15},
  F64: {bytes: 8, onnx: 11, torch: 'float64', rank: 16},
  I64: {bytes: 8, onnx: 7, torch: 'int64', rank: 17},
  U64: {bytes: 8, onnx: 13, torch: 'uint64', rank: 18},
} as const satisfies Record<string, {bytes: number; onnx: number; torch: string; rank: number}>

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES

/** Float dtypes dlec converts between (the ones mergekit's `dtype` / `out_dtype` can name, plus F64). */
export type FloatDtype = 'F32' | 'F16' | 'BF16' | 'F64'

export function isSafetensorsDtype(value: string): value is SafetensorsDtype {
  return Object.hasOwn(SAFETENSORS_DTYPES, value)
}

export function isFloatDtype(value: string): value is FloatDtype {
  return value === 'F32' || value === 'F16' || value === 'BF16' || value === 'F64'
}

export function dtypeBytes(dtype: SafetensorsDtype): number {
  return SAFETENSORS_DTYPES[dtype].bytes
}

/**
 * The safetensors dtype of a mergekit / torch dtype name as mergekit's `dtype_from_name` accepts
 * it (`bfloat16`, `float16`, `float32`, `float64`, `int64`, optionally prefixed `torch.`); undefined otherwise.
 */
export function dtypeFromTorchName(name: string): SafetensorsDtype | undefined {
  switch (name.startsWith('torch.') ? name.slice('torch.'.length) : name) {
    case 'bfloat16':
      return 'BF16'
    case 'float16':
      return 'F16'
    case 'float32':
      return 'F32'
    case 'float64':
      return 'F64'
    case 'int64':
      return 'I64'
    default:
      return undefined
  }
}

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** The bits of `value` rounded to float32. */
export function float32Bits(value: number): number {
  f32[0] = value
  return u32[0] ?? 0
}

/** The float32 whose bits are `bits`. */
export function float32FromBits(bits: number): number {
  u32[0] = bits >>> 0
  return f32[0] ?? 0
}

/**
 * float32 bits -> bfloat16 bits, round to nearest even, as torch's CPU `.to(torch.bfloat16)`;
 * every NaN becomes `BF16_NAN`.
 */
export function f32BitsToBf16(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) {
    return BF16_NAN
  }
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1)
  return (rounded >>> 16) & 0xffff
}

/** The bfloat16 bits torch writes for any NaN (checked against the test venv's torch). */
export const BF16_NAN = 0xffff

/** bfloat16 bits -> float32 bits (exact). */
export function bf16ToF32Bits(bits: number): number {
  return (bits << 16) >>> 0
}

/**
 * float32 bits -> float16 bits, round to nearest even, with subnormals and overflow to infinity,
 * as torch's CPU `.to(torch.float16)` (F16C hardware rounding): a NaN keeps its sign and top
 * payload bits and is made quiet.
 */
export function f32BitsToF16(bits: number): number {
  const sign = (bits >>> 16) & 0x8000
  const abs = bits & 0x7fffffff
  if (abs > 0x7f800000) {
    return sign | 0x7e00 | ((abs >>> 13) & 0x3ff)
  }
  if (abs >= 0x477ff000) {
    // >= 65520 rounds to infinity (65504 is the largest finite half).
    return sign | 0x7c00
  }
  const exponent = abs >>> 23
  if (exponent < 113) {
    // Result is a half subnormal (or zero): value = abs * 2^24 in half-subnormal units.
    if (exponent < 102) {
      // Below half the smallest subnormal (2^-25): rounds to zero.
      return sign
    }
    const mantissa = (abs & 0x7fffff) | 0x800000
    const shift = 126 - exponent
    const halfway = 1 << (shift - 1)
    const remainder = mantissa & ((1 << shift) - 1)
    let result = mantissa >>> shift
    if (remainder > halfway || (remainder === halfway && (result & 1) === 1)) {
      result += 1
    }
    return sign | result
  }
  // Normal: rebias exponent (127 -> 15) and round the 13 dropped mantissa bits.
  const rebased = abs - (112 << 23)
  const remainder = rebased & 0x1fff
  let result = rebased >>> 13
  if (remainder > 0x1000 || (remainder === 0x1000 && (result & 1) === 1)) {
    result += 1
  }
  return sign | result
}

/** float16 bits -> float32 bits (exact, subnormals normalised, NaN payload kept). */
export function f16ToF32Bits(bits: number): number {
  const sign = (bits & 0x8000) << 16
  const exponent = (bits >>> 10) & 0x1f
  const mantissa = bits & 0x3ff
  if (exponent === 0x1f) {
    return (sign | 0x7f800000 | (mantissa << 13)) >>> 0
  }
  if (exponent === 0) {
    if (mantissa === 0) {
      return sign >>> 0
    }
    // Subnormal: normalise.
    let m = mantissa
    let e = 113
    while ((m & 0x400) === 0) {
      m <<= 1
      e -= 1
    }
    return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0
  }
  return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0
}
