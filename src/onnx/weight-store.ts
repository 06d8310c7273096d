import {createHash} from 'node:crypto'
import {closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import {basename, join} from 'node:path'
import {ModelError} from '../errors.js'
import {dtypeBytes} from '../safetensors/dtype.js'
import {assertFinite, DEFAULT_CHUNK_BYTES, floatRows} from './float-rows.js'
import type {WeightFiles, WeightLocation} from './weight-files.js'
import type {ExternalRef} from './proto.js'
import {FLOAT_DTYPES} from './float-convert.js'
import {canQuantize, quantizeBlocks} from './quantize.js'
import type {QuantizedWeight} from './decoder-graph.js'

/**
 * Puts a model's weights where ONNX Runtime can reference them as external data, once per model
 * (cache folder keyed by a hash of the safetensors headers and sizes):
 * - fp32 checkpoints: the safetensors files are hard-linked into the folder (ORT resolves symlinks
 *   and refuses paths that leave the model's folder; a hard link is the same bytes, no copy), and
 *   each initializer points at its offset inside them;
 * - bf16 / fp16 (or when hard links are impossible, e.g. across file systems): converted once to
 *   fp32 into `weights-fp32.bin` in the folder;
 * - int8 / int4: the chosen [out, in] projections block-quantized (MatMulNBits layout, see
 *   quantize.ts), the rest fp32, into `weights-<format>-...bin`.
 * Every tensor is checked for NaN/Inf once; the result is remembered in the folder.
 */
export interface WeightStore {
  /** The folder the .onnx graphs are written to. */
  dir: string
  /** Float32 external-data location of a tensor, relative to `dir`. */
  locate(name: string): {dims: number[]; data: ExternalRef}
  /** The MatMulNBits form of a projection, when the store is quantized and the tensor is. */
  quantized(name: string): QuantizedWeight | undefined
}

export type WeightFormat = 'fp32' | 'int8' | 'int4'

/** Block size of quantized weights (MatMulNBits `block_size`). */
export const QUANT_BLOCK = 32

export interface PrepareWeightStoreParams {
  files: WeightFiles
  cacheDir: string
  /** fp32 (default) or block-quantized projections. */
  format?: WeightFormat
  /** Tensors to quantize ([out, in] projections); the rest stay float32. */
  quantize?: Set<string>
  /** Quantized tensors that are also needed as float32 (a tied embedding). */
  alsoFloat?: Set<string>
  /** Source bytes read at a time when converting or checking (default 16 MiB). */
  chunkBytes?: number
}

export type WeightStoreEvent = {type: 'convert'; done: number; total: number; tensor: string} | {type: 'check'; done: number; total: number}

export async function* prepareWeightStoreIter(params: PrepareWeightStoreParams): AsyncGenerator<WeightStoreEvent, WeightStore> {
  const {files, cacheDir} = params
  const format = params.format ?? 'fp32'
  const chunkBytes = params.chunkBytes ?? DEFAULT_CHUNK_BYTES
  const key = createHash('sha256').update(files.fingerprint).digest('hex').slice(0, 20)
  const dir = join(cacheDir, 'models', key)
  mkdirSync(dir, {recursive: true})
  const tensors = [...files.tensors.values()].filter((t) => FLOAT_DTYPES.has(t.dtype))
  const allFloat = tensors.every((t) => t.dtype === 'F32')
  let linked = allFloat && format === 'fp32'
  if (linked) {
    for (const [i, file] of files.files.entries()) {
      const target = join(dir, `shard-${i}.safetensors`)
      if (!existsSync(target) && !tryLink(file, target)) {
        linked = false
        break
      }
    }
  }
  let store: WeightStore
  if (linked) {
    const shardOf = new Map(files.files.map((f, i) => [f, `shard-${i}.safetensors`]))
    store = {
      dir,
      locate(name) {
        const t = lookup(files, name)
        return {dims: t.shape, data: {location: shardOf.get(t.file) ?? basename(t.file), offset: t.offset, length: t.byteLength}}
      },
      quantized: () => undefined,
    }
  } else {
    const quantize = format === 'fp32' ? new Set<string>() : (params.quantize ?? new Set<string>())
    store = yield* convertedStore({dir, tensors, format, quantize, alsoFloat: params.alsoFloat ?? new Set<string>(), chunkBytes})
  }
  const checked = join(dir, 'finite.ok')
  if (!existsSync(checked)) {
    for (const [i, t] of tensors.entries()) {
      assertFinite(t, chunkBytes)
      if (i % 16 === 0) {
        yield {type: 'check', done: i, total: tensors.length}
      }
    }
    writeFileSync(checked, 'all weights finite\n')
  }
  return store
}

/** Drains prepareWeightStoreIter without progress. */
export async function prepareWeightStore(params: PrepareWeightStoreParams): Promise<WeightStore> {
  const it = prepareWeightStoreIter(params)
  for (;;) {
    const r = await it.next()
    if (r.done === true) {
      return r.value
    }
  }
}

interface Region {
  offset: number
  length: number
  dims: number[]
}
interface IndexEntry {
  f32?: Region
  q?: {bits: 4 | 8; blockSize: number; n: number; k: number; q: Region; scales: Region}
}

async function* convertedStore(p: {
  dir: string
  tensors: WeightLocation[]
  format: WeightFormat
  quantize: Set<string>
  alsoFloat: Set<string>
  chunkBytes: number
}): AsyncGenerator<WeightStoreEvent, WeightStore> {
  const {dir, tensors, format, quantize, alsoFloat, chunkBytes} = p
  const bits = format === 'int8' ? 8 : 4
  const selected = tensors.filter((t) => quantize.has(t.name) && canQuantize(t.shape, QUANT_BLOCK)).map((t) => t.name)
  const tag = format === 'fp32' ? 'fp32' : `${format}-b${QUANT_BLOCK}-${createHash('sha256').update(selected.sort().join('\n')).digest('hex').slice(0, 10)}`
  const bin = `weights-${tag}.bin`
  const indexPath = join(dir, `weights-${tag}.json`)
  if (!existsSync(indexPath)) {
    const chosen = new Set(selected)
    const tmp = join(dir, `${bin}.tmp-${process.pid}`)
    const fd = openSync(tmp, 'w')
    const index: Record<string, IndexEntry> = {}
    let offset = 0
    // Regions are laid out in order, each 64-byte aligned, and filled chunk by chunk.
    const reserve = (length: number, dims: number[]): Region => {
      const region = {offset, length, dims}
      offset = Math.ceil((offset + length) / 64) * 64
      return region
    }
    try {
      for (const [i, t] of tensors.entries()) {
        const entry: IndexEntry = {}
        if (chosen.has(t.name)) {
          const [n, k] = t.shape as [number, number]
          const blocks = k / QUANT_BLOCK
          const q = reserve(n * blocks * ((QUANT_BLOCK * bits) / 8), [n, blocks, (QUANT_BLOCK * bits) / 8])
          const scales = reserve(n * blocks * 4, [n * blocks])
          for (const {row, values} of floatRows(t, chunkBytes)) {
            const rows = values.length / k
            const qb = quantizeBlocks(values, rows, k, bits, QUANT_BLOCK)
            writeSync(fd, qb.q, 0, qb.q.length, q.offset + row * blocks * ((QUANT_BLOCK * bits) / 8))
            writeSync(fd, new Uint8Array(qb.scales.buffer), 0, qb.scales.byteLength, scales.offset + row * blocks * 4)
          }
          entry.q = {bits, blockSize: QUANT_BLOCK, n, k, q, scales}
        }
        if (!chosen.has(t.name) || alsoFloat.has(t.name)) {
          const region = reserve((t.byteLength / dtypeBytes(t.dtype)) * 4, t.shape)
          const width = t.shape.length > 1 ? (t.shape[t.shape.length - 1] as number) : 1
          for (const {row, values} of floatRows(t, chunkBytes)) {
            writeSync(fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 0, values.byteLength, region.offset + row * width * 4)
          }
          entry.f32 = region
        }
        index[t.name] = entry
        yield {type: 'convert', done: i + 1, total: tensors.length, tensor: t.name}
      }
    } catch (error) {
      closeSync(fd)
      rmSync(tmp, {force: true})
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        const total = tensors.reduce((sum, t) => sum + (t.byteLength / dtypeBytes(t.dtype)) * 4, 0)
        throw new ModelError(`${dir}: no space left for the converted weights (up to ${(total / 1e9).toFixed(1)} GB as float32); free space or pass another cache folder`, 'DLEC_CACHE_FULL')
      }
      throw error
    }
    closeSync(fd)
    renameSync(tmp, join(dir, bin))
    writeFileSync(`${indexPath}.tmp`, JSON.stringify(index))
    renameSync(`${indexPath}.tmp`, indexPath)
  }
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as Record<string, IndexEntry>
  const ref = (r: Region): {dims: number[]; data: ExternalRef} => ({dims: r.dims, data: {location: bin, offset: r.offset, length: r.length}})
  return {
    dir,
    locate(name) {
      const e = index[name]?.f32
      if (e === undefined) {
        throw new ModelError(`tensor ${name} is not in the converted weights (${indexPath})`, 'DLEC_WEIGHT_MISSING')
      }
      return ref(e)
    },
    quantized(name) {
      const q = index[name]?.q
      return q === undefined ? undefined : {bits: q.bits, blockSize: q.blockSize, n: q.n, k: q.k, weight: ref(q.q), scales: ref(q.scales)}
    },
  }
}

function lookup(files: WeightFiles, name: string): WeightLocation {
  const t = files.tensors.get(name)
  if (t === undefined) {
    throw new ModelError(`tensor ${name} is not in the checkpoint`, 'DLEC_WEIGHT_MISSING')
  }
  return t
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to)
    return true
  } catch {
    return false
  }
}
