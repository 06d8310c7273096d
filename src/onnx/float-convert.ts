import {ModelError} from '../errors.js'

/** Float dtypes dlec can read from safetensors. */
export const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64'])

/** Decodes little-endian safetensors bytes of a float dtype to a new Float32Array. Pure. */
export function toFloat32(bytes: Uint8Array, dtype: string, tensor: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(bytes.byteLength / 4)
      new Uint8Array(out.buffer).set(bytes)
      return out
    }
    case 'BF16': {
      const out = new Float32Array(bytes.byteLength / 2)
      const bits = new Uint32Array(out.buffer)
      for (let i = 0; i < out.length; i++) {
        bits[i] = view.getUint16(i * 2, true) << 16
      }
      return out
    }
    case 'F16': {
      const out = new Float32Array(bytes.byteLength / 2)
      for (let i = 0; i < out.length; i++) {
        out[i] = halfToFloat(view.getUint16(i * 2, true))
      }
      return out
    }
    case 'F64': {
      const out = new Float32Array(bytes.byteLength / 8)
      for (let i = 0; i < out.length; i++) {
        out[i] = view.getFloat64(i * 8, true)
      }
      return out
    }
    default: {
      throw new ModelError(`tensor ${tensor} has dtype ${dtype}; dlec's graphs read F32, F16, BF16 and F64 weights`, 'DLEC_WEIGHT_DTYPE')
    }
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >> 10) & 0x1f
  const frac = h & 0x3ff
  if (exp === 0) {
    return sign * frac * 2 ** -24
  }
  if (exp === 0x1f) {
    return frac === 0 ? sign * Infinity : Number.NaN
  }
  return sign * (1 + frac / 1024) * 2 ** (exp - 15)
}
