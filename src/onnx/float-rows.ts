import {closeSync, openSync, readSync} from 'node:fs'
import {ModelError} from '../errors.js'
import {dtypeBytes} from '../safetensors/dtype.js'
import {toFloat32} from './float-convert.js'
import type {WeightLocation} from '../model/weight-files.js'

/** Throws naming the tensor when any of its values is NaN or infinite (read in chunks). */
export function assertFinite(t: WeightLocation, chunkBytes: number): void {
  const width = t.shape.length > 1 ? (t.shape[t.shape.length - 1] as number) : 1
  for (const {row, values} of floatRows(t, chunkBytes)) {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i] as number)) {
        throw new ModelError(`tensor ${t.name} contains ${values[i]} at element ${row * width + i} (${t.file})`, 'DLEC_WEIGHT_NONFINITE')
      }
    }
  }
}

/** Source bytes read per chunk when converting or checking weights. */
export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024

/**
 * A tensor as float32, whole rows (last dimension) at a time, about `chunkBytes` of source per
 * chunk, so converting or checking never holds more than one chunk of a tensor in memory.
 */
export function* floatRows(t: WeightLocation, chunkBytes: number): Generator<{row: number; values: Float32Array}> {
  const elem = dtypeBytes(t.dtype)
  const width = t.shape.length > 1 ? (t.shape[t.shape.length - 1] as number) : Math.max(1, t.byteLength / elem)
  const rows = t.byteLength / elem / width
  const perChunk = Math.max(1, Math.floor(chunkBytes / (width * elem)))
  const fd = openSync(t.file, 'r')
  try {
    for (let row = 0; row < rows; row += perChunk) {
      const count = Math.min(perChunk, rows - row)
      const buf = Buffer.alloc(count * width * elem)
      readSync(fd, buf, 0, buf.length, t.offset + row * width * elem)
      yield {row, values: toFloat32(buf, t.dtype, t.name)}
    }
  } finally {
    closeSync(fd)
  }
}
