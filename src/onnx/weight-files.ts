import {closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {ModelError, SafetensorsParseError} from '../errors.js'

/**
 * Where each weight of a model folder lives: real (symlink-resolved) file, absolute byte offset and
 * length, dtype and shape, read from the safetensors headers only. This is all the graph builder
 * needs to reference fp32 weights in place as ONNX external data.
 */
export interface WeightLocation {
  name: string
  dtype: string
  shape: number[]
  /** Real path of the safetensors file (symlinks resolved). */
  file: string
  /** Absolute byte offset of the tensor's data in `file`. */
  offset: number
  byteLength: number
}

export interface WeightFiles {
  /** The files, real paths, in a stable order. */
  files: string[]
  tensors: Map<string, WeightLocation>
  /** Header bytes of every file, concatenated: a cheap content fingerprint. */
  fingerprint: string
}

/** Longest safetensors header dlec accepts (the format's own limit is 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024

export function readWeightFiles(modelDir: string): WeightFiles {
  const indexPath = join(modelDir, 'model.safetensors.index.json')
  let names: string[]
  if (existsSync(indexPath)) {
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as {weight_map?: Record<string, string>}
    if (typeof index.weight_map !== 'object' || index.weight_map === null) {
      throw new SafetensorsParseError(`${indexPath}: no weight_map`)
    }
    names = [...new Set(Object.values(index.weight_map))].sort()
  } else if (existsSync(join(modelDir, 'model.safetensors'))) {
    names = ['model.safetensors']
  } else {
    throw new ModelError(`${modelDir}: no model.safetensors or model.safetensors.index.json`, 'DLEC_MODEL_NO_WEIGHTS')
  }
  const tensors = new Map<string, WeightLocation>()
  const files: string[] = []
  const prints: string[] = []
  for (const n of names) {
    const file = realpathSync(join(modelDir, n))
    files.push(file)
    const {header, dataStart} = readHeader(file)
    prints.push(`${n}:${statSync(file).size}:${JSON.stringify(header)}`)
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') {
        continue
      }
      const e = entry as {dtype: string; shape: number[]; data_offsets: [number, number]}
      tensors.set(name, {
        name,
        dtype: e.dtype,
        shape: e.shape,
        file,
        offset: dataStart + e.data_offsets[0],
        byteLength: e.data_offsets[1] - e.data_offsets[0],
      })
    }
  }
  return {files, tensors, fingerprint: prints.join('\n')}
}

function readHeader(file: string): {header: Record<string, unknown>; dataStart: number} {
  const fd = openSync(file, 'r')
  try {
    const len = Buffer.alloc(8)
    if (readSync(fd, len, 0, 8, 0) !== 8) {
      throw new SafetensorsParseError(`${file}: truncated (no header length)`)
    }
    const n = Number(len.readBigUInt64LE(0))
    const size = statSync(file).size
    if (n > MAX_HEADER_BYTES || 8 + n > size) {
      throw new SafetensorsParseError(`${file}: header length ${n} exceeds the file`)
    }
    const buf = Buffer.alloc(n)
    readSync(fd, buf, 0, n, 8)
    const header = JSON.parse(buf.toString('utf8')) as Record<string, unknown>
    return {header, dataStart: 8 + n}
  } finally {
    closeSync(fd)
  }
}

/** Reads one tensor's bytes. */
export function readWeightBytes(w: WeightLocation): Buffer {
  const fd = openSync(w.file, 'r')
  try {
    const buf = Buffer.alloc(w.byteLength)
    readSync(fd, buf, 0, w.byteLength, w.offset)
    return buf
  } finally {
    closeSync(fd)
  }
}
