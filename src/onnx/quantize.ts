/**
 * Block quantization in ONNX Runtime's MatMulNBits layout (com.microsoft): a weight W[N, K]
 * (HF Linear, out x in) is cut into blocks of `blockSize` along K; each block gets one float scale
 * = max|w| / qmax and values q = round(w / scale) + zero (zero = 8 for 4 bits, 128 for 8 bits, the
 * op's default zero point when none is given). 4-bit values are packed two per byte, the even
 * element in the low nibble. Shapes: q [N, K / blockSize, blockSize * bits / 8], scales [N, K / blockSize]. Pure.
 */
export interface BlockQuantized {
  bits: 4 | 8
  blockSize: number
  n: number
  k: number
  q: Uint8Array
  scales: Float32Array
}

/** True when W[N, K] can be quantized with this block size (K must be a multiple of it). */
export function canQuantize(dims: number[], blockSize: number): boolean {
  return dims.length === 2 && (dims[1] as number) % blockSize === 0 && (dims[1] as number) >= blockSize
}

export function quantizeBlocks(w: Float32Array, n: number, k: number, bits: 4 | 8, blockSize: number): BlockQuantized {
  const blocks = k / blockSize
  const qmax = bits === 4 ? 7 : 127
  const zero = bits === 4 ? 8 : 128
  const top = bits === 4 ? 15 : 255
  const blob = (blockSize * bits) / 8
  const q = new Uint8Array(n * blocks * blob)
  const scales = new Float32Array(n * blocks)
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const start = row * k + b * blockSize
      let absmax = 0
      for (let i = 0; i < blockSize; i++) {
        absmax = Math.max(absmax, Math.abs(w[start + i] as number))
      }
      const scale = Math.fround(absmax / qmax)
      scales[row * blocks + b] = scale
      const inv = scale === 0 ? 0 : 1 / scale
      const out = (row * blocks + b) * blob
      for (let i = 0; i < blockSize; i++) {
        const v = Math.min(top, Math.max(0, Math.round((w[start + i] as number) * inv) + zero))
        if (bits === 8) {
          q[out + i] = v
        } else if (i % 2 === 0) {
          q[out + i / 2] = v
        } else {
          q[out + (i - 1) / 2] = (q[out + (i - 1) / 2] as number) | (v << 4)
        }
      }
    }
  }
  return {bits, blockSize, n, k, q, scales}
}

/** The float weights a quantized tensor stands for, [N, K] (what MatMulNBits multiplies by). */
export function dequantizeBlocks(t: BlockQuantized): Float32Array {
  const {n, k, bits, blockSize} = t
  const blocks = k / blockSize
  const blob = (blockSize * bits) / 8
  const zero = bits === 4 ? 8 : 128
  const w = new Float32Array(n * k)
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const scale = t.scales[row * blocks + b] as number
      const at = (row * blocks + b) * blob
      for (let i = 0; i < blockSize; i++) {
        const byte = t.q[bits === 8 ? at + i : at + (i >> 1)] as number
        const v = bits === 8 ? byte : i % 2 === 0 ? byte & 15 : byte >> 4
        w[row * k + b * blockSize + i] = (v - zero) * scale
      }
    }
  }
  return w
}
