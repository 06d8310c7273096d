import {createHash} from 'node:crypto'
import {existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, closeSync, writeSync} from 'node:fs'
import {basename, join} from 'node:path'
import {ModelError} from '../errors.js'
import {readWeightBytes, type WeightFiles, type WeightLocation} from './weight-files.js'
import type {ExternalRef} from './proto.js'
import {FLOAT_DTYPES, toFloat32} from './float-convert.js'

/**
 * Puts a model's weights where ONNX Runtime can reference them as external data, once per model
 * (cache folder keyed by a hash of the safetensors headers and sizes):
 * - fp32 checkpoints: the safetensors files are hard-linked into the folder (ORT resolves symlinks
 *   and refuses paths that leave the model's folder; a hard link is the same bytes, no copy), and
 *   each initializer points at its offset inside them;
 * - bf16 / fp16 (or when hard links are impossible, e.g. across file systems): converted once to
 *   fp32 into `weights-fp32.bin` in the folder.
 * Every tensor is checked for NaN/Inf once; the result is remembered in the folder.
 */
export interface WeightStore {
  /** The folder the .onnx graphs are written to. */
  dir: string
  /** Float32 external-data location of a tensor, relative to `dir`. */
  locate(name: string): {dims: number[]; data: ExternalRef}
}

export type WeightStoreEvent = {type: 'convert'; done: number; total: number; tensor: string} | {type: 'check'; done: number; total: number}

export async function* prepareWeightStoreIter(params: {files: WeightFiles; cacheDir: string}): AsyncGenerator<WeightStoreEvent, WeightStore> {
  const {files, cacheDir} = params
  const key = createHash('sha256').update(files.fingerprint).digest('hex').slice(0, 20)
  const dir = join(cacheDir, 'models', key)
  mkdirSync(dir, {recursive: true})
  const tensors = [...files.tensors.values()].filter((t) => FLOAT_DTYPES.has(t.dtype))
  const allFloat = tensors.every((t) => t.dtype === 'F32')
  let linked = allFloat
  if (allFloat) {
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
    }
  } else {
    store = yield* convertedStore(dir, tensors)
  }
  const checked = join(dir, 'finite.ok')
  if (!existsSync(checked)) {
    for (const [i, t] of tensors.entries()) {
      assertFinite(t)
      if (i % 16 === 0) {
        yield {type: 'check', done: i, total: tensors.length}
      }
    }
    writeFileSync(checked, 'all weights finite\n')
  }
  return store
}

/** Drains prepareWeightStoreIter without progress. */
export async function prepareWeightStore(params: {files: WeightFiles; cacheDir: string}): Promise<WeightStore> {
  const it = prepareWeightStoreIter(params)
  for (;;) {
    const r = await it.next()
    if (r.done === true) {
      return r.value
    }
  }
}

async function* convertedStore(dir: string, tensors: WeightLocation[]): AsyncGenerator<WeightStoreEvent, WeightStore> {
  const bin = 'weights-fp32.bin'
  const indexPath = join(dir, 'weights-fp32.json')
  if (!existsSync(indexPath)) {
    const tmp = join(dir, `${bin}.tmp-${process.pid}`)
    const fd = openSync(tmp, 'w')
    const index: Record<string, {offset: number; length: number; dims: number[]}> = {}
    let offset = 0
    try {
      for (const [i, t] of tensors.entries()) {
        const f32 = toFloat32(readWeightBytes(t), t.dtype, t.name)
        const bytes = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength)
        writeSync(fd, bytes, 0, bytes.length, offset)
        index[t.name] = {offset, length: bytes.length, dims: t.shape}
        offset += bytes.length
        yield {type: 'convert', done: i + 1, total: tensors.length, tensor: t.name}
      }
    } catch (error) {
      closeSync(fd)
      rmSync(tmp, {force: true})
      throw error
    }
    closeSync(fd)
    renameSync(tmp, join(dir, bin))
    writeFileSync(`${indexPath}.tmp`, JSON.stringify(index))
    renameSync(`${indexPath}.tmp`, indexPath)
  }
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as Record<string, {offset: number; length: number; dims: number[]}>
  return {
    dir,
    locate(name) {
      const e = index[name]
      if (e === undefined) {
        throw new ModelError(`tensor ${name} is not in the converted weights (${indexPath})`, 'DLEC_WEIGHT_MISSING')
      }
      return {dims: e.dims, data: {location: bin, offset: e.offset, length: e.length}}
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

/** Throws naming the tensor when any of its values is NaN or infinite. */
function assertFinite(t: WeightLocation): void {
  const values = toFloat32(readWeightBytes(t), t.dtype, t.name)
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i] as number)) {
      throw new ModelError(`tensor ${t.name} contains ${values[i]} at element ${i} (${t.file})`, 'DLEC_WEIGHT_NONFINITE')
    }
  }
}
