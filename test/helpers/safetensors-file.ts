import {writeFileSync} from 'node:fs'

export interface RawTensor {
  name: string
  dtype: string
  shape: number[]
  data: Uint8Array
}

/**
 * Bytes of a safetensors file holding `tensors` in the given order (test helper: lets tests build
 * valid files and then break them on purpose). `patch` edits the header JSON before encoding.
 */
export function safetensorsBytes(tensors: RawTensor[], patch?: (header: Record<string, unknown>) => void): Uint8Array {
  const header: Record<string, unknown> = {__metadata__: {format: 'pt'}}
  let offset = 0
  for (const t of tensors) {
    header[t.name] = {dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength]}
    offset += t.data.byteLength
  }
  patch?.(header)
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - (json.length % 8)) % 8)
  const jsonBytes = new TextEncoder().encode(json)
  const out = new Uint8Array(8 + jsonBytes.byteLength + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.byteLength), true)
  out.set(jsonBytes, 8)
  let at = 8 + jsonBytes.byteLength
  for (const t of tensors) {
    out.set(t.data, at)
    at += t.data.byteLength
  }
  return out
}

export function writeSafetensors(path: string, tensors: RawTensor[], patch?: (header: Record<string, unknown>) => void): void {
  writeFileSync(path, safetensorsBytes(tensors, patch))
}

/** A float32 tensor of `shape` with values 0, 1, 2, ... */
export function f32Tensor(name: string, shape: number[]): RawTensor {
  const n = shape.reduce((a, b) => a * b, 1)
  const values = Float32Array.from({length: n}, (_, i) => i)
  return {name, dtype: 'F32', shape, data: new Uint8Array(values.buffer)}
}
