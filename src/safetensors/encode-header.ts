import {SAFETENSORS_DTYPES, type SafetensorsDtype} from './dtype.js'
import {LENGTH_PREFIX_BYTES} from './header.js'

export interface TensorToWrite {
  name: string
  dtype: SafetensorsDtype
  shape: number[]
  byteLength: number
}

export interface EncodedHeader<T extends TensorToWrite> {
  /** The 8-byte little-endian length followed by the space-padded JSON header. */
  bytes: Uint8Array
  /** The tensors in data order (their bytes must follow the header in this order). */
  order: T[]
}

/**
 * The header the safetensors library writes for these tensors (`serialize` in
 * huggingface/safetensors): tensors ordered by descending dtype then name, contiguous offsets,
 * compact JSON with `__metadata__` first, padded with spaces to a multiple of 8. Pure.
 */
export function encodeSafetensorsHeader<T extends TensorToWrite>(tensors: T[], metadata: Record<string, string> = {format: 'pt'}): EncodedHeader<T> {
  const order = [...tensors].sort(
    (a, b) => SAFETENSORS_DTYPES[b.dtype].rank - SAFETENSORS_DTYPES[a.dtype].rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  )
  const parts: string[] = []
  if (Object.keys(metadata).length > 0) {
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`)
  }
  let offset = 0
  for (const t of order) {
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":${JSON.stringify(t.shape)},"data_offsets":[${offset},${offset + t.byteLength}]}`)
    offset += t.byteLength
  }
  let json = `{${parts.join(',')}}`
  const encoded = new TextEncoder().encode(json)
  const padding = (8 - (encoded.byteLength % 8)) % 8
  json += ' '.repeat(padding)
  const body = new TextEncoder().encode(json)
  const bytes = new Uint8Array(LENGTH_PREFIX_BYTES + body.byteLength)
  new DataView(bytes.buffer).setBigUint64(0, BigInt(body.byteLength), true)
  bytes.set(body, LENGTH_PREFIX_BYTES)
  return {bytes, order}
}
