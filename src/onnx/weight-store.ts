import {createHash} from 'node:crypto'
import {closeSync, existsSync, ftruncateSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {basename, join} from 'node:path'
import {DlecError, ModelError} from '../errors.js'
import {fsReason, isOutOfSpace} from '../util/fs-error.js'
import {dtypeBytes} from '../safetensors/dtype.js'
import {DEFAULT_CHUNK_BYTES} from './float-rows.js'
import type {WeightFiles, WeightLocation} from '../model/weight-files.js'
import type {ExternalRef} from './proto.js'
import {FLOAT_DTYPES} from './float-convert.js'
import {canQuantize} from './quantize.js'
import type {QuantizedWeight, W8Weight} from './decoder-graph.js'
import {acquireBuildLock, runBuildJobs, type ConvertJob} from './weight-build.js'
import {drain} from '../drain.js'

/**
 * Puts a model's weights where ONNX Runtime can reference them as external data, once per model
 * (cache folder keyed by a hash of the safetensors headers and file identities):
 * - fp32 checkpoints: the safetensors files are hard-linked into the folder (ORT resolves symlinks
 *   and refuses paths that leave the model's folder; a hard link is the same bytes, no copy), and
 *   each initializer points at its offset inside them;
 * - bf16 / fp16 (or when hard links are impossible, e.g. across file systems): converted once to
 *   fp32 into `weights-fp32.bin` in the folder;
 * - int8 / int4: the [out, in] projections and the embeddings block-quantized (MatMulNBits layout,
 *   see quantize.ts), the rest fp32, into `weights-<format>-...bin`;
 * - w8a8: the projections as signed int8 [in, out] with one scale per output channel
 *   (DynamicQuantizeMatMul), the embeddings as 8-bit blocks (GatherBlockQuantized), the rest fp32.
 * The build runs on every core in row chunks (weight-build.ts), checks every value for NaN / Inf
 * in the same pass, writes a temporary file renamed into place, holds a lock folder so two
 * processes never build the same file at once, and removes its temporary file when interrupted.
 * fp32 checkpoints read in place are checked once (the result is remembered in the folder).
 * ONNX Runtime memory-maps the file, so every session on it shares one copy through the page cache.
 */
export interface WeightStore {
  /** The folder the .onnx graphs are written to. */
  dir: string
  /** Float32 external-data location of a tensor, relative to `dir`. */
  locate(name: string): {dims: number[]; data: ExternalRef}
  /** The MatMulNBits form of a projection or embedding, when the store holds one. */
  quantized(name: string): QuantizedWeight | undefined
  /** The W8A8 form (int8 [K, N] + per-channel scales) of a projection, when the store holds one. */
  w8(name: string): W8Weight | undefined
  /** Bytes of the weight file this store built (0 when the checkpoint is read in place). */
  bytes: number
}

export type WeightFormat = 'fp32' | 'int8' | 'int4' | 'w8a8'
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['fp32', 'int8', 'int4', 'w8a8']

/** Block size of block-quantized weights (MatMulNBits `block_size`). */
export const QUANT_BLOCK = 32

export interface PrepareWeightStoreParams {
  files: WeightFiles
  cacheDir: string
  /** fp32 (default) or a quantized format. */
  format?: WeightFormat
  /** Weights of linear layers ([out, in]; [in, out] when also in `kn`) to quantize; the rest stay float32. */
  quantize?: Set<string>
  /** Embedding tables read by Gather: block-quantized in every quantized format. */
  gather?: Set<string>
  /** Linear weights stored [in, out] (GPT-2 Conv1D): only w8a8 quantizes them (per column). */
  kn?: Set<string>
  /** Quantized tensors that are also needed as float32. */
  alsoFloat?: Set<string>
  /** Source bytes per build job (default 16 MiB). */
  chunkBytes?: number
  /** Worker threads of the build (default one per core). */
  workers?: number
  /** Stops a build: the workers end and the temporary file is removed (exit 130). */
  signal?: AbortSignal
}

export type WeightStoreEvent = {type: 'convert'; done: number; total: number; tensor: string} | {type: 'check'; done: number; total: number}

export async function* prepareWeightStoreIter(params: PrepareWeightStoreParams): AsyncGenerator<WeightStoreEvent, WeightStore> {
  const {files, cacheDir} = params
  const format = params.format ?? 'fp32'
  const chunkBytes = params.chunkBytes ?? DEFAULT_CHUNK_BYTES
  const key = createHash('sha256').update(files.fingerprint).digest('hex').slice(0, 20)
  const dir = join(cacheDir, 'models', key)
  try {
    mkdirSync(dir, {recursive: true})
  } catch (error) {
    throw new ModelError(`${dir}: cannot create the weight cache folder (${fsReason(error)}); pass another --cache-dir`, 'DLEC_CACHE_WRITE')
  }
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
  if (!linked) {
    return yield* convertedStore({dir, tensors, format, params, chunkBytes})
  }
  const checked = join(dir, 'finite.ok')
  if (!existsSync(checked)) {
    const jobs = planJobs(tensors, () => ({}), () => false, chunkBytes)
    for await (const p of runBuildJobs(jobs, {workers: params.workers, signal: params.signal})) {
      yield {type: 'check', done: p.done, total: p.total}
    }
    writeFileSync(checked, 'all weights finite\n')
  }
  const shardOf = new Map(files.files.map((f, i) => [f, `shard-${i}.safetensors`]))
  return {
    dir,
    bytes: 0,
    locate(name) {
      const t = lookup(files, name)
      return {dims: t.shape, data: {location: shardOf.get(t.file) ?? basename(t.file), offset: t.offset, length: t.byteLength}}
    },
    quantized: () => undefined,
    w8: () => undefined,
  }
}

/** Drains prepareWeightStoreIter without progress. */
export async function prepareWeightStore(params: PrepareWeightStoreParams): Promise<WeightStore> {
  return drain(prepareWeightStoreIter(params))
}

interface Region {
  offset: number
  length: number
  dims: number[]
}
interface IndexEntry {
  f32?: Region
  q?: {bits: 4 | 8; blockSize: number; n: number; k: number; q: Region; scales: Region}
  w8?: {n: number; k: number; q: Region; scales: Region}
}

/** Which forms a tensor gets in a format. */
interface Forms {
  block?: 4 | 8
  w8?: 'nk' | 'kn'
  f32: boolean
}

function formsOf(t: WeightLocation, format: WeightFormat, p: PrepareWeightStoreParams): Forms {
  const linear = p.quantize?.has(t.name) === true
  const gather = p.gather?.has(t.name) === true
  const kn = p.kn?.has(t.name) === true
  const forms: Forms = {f32: false}
  const blockable = canQuantize(t.shape, QUANT_BLOCK)
  if (format === 'int8' || format === 'int4') {
    if ((linear && !kn) || gather) {
      forms.block = blockable ? (format === 'int8' ? 8 : 4) : undefined
    }
  } else if (format === 'w8a8') {
    if (gather && blockable) {
      forms.block = 8
    }
    if (linear && t.shape.length === 2) {
      forms.w8 = kn ? 'kn' : 'nk'
    }
  }
  const linearForm = format === 'w8a8' ? forms.w8 !== undefined : forms.block !== undefined
  forms.f32 = (linear && !linearForm) || (gather && forms.block === undefined) || (!linear && !gather) || p.alsoFloat?.has(t.name) === true
  return forms
}

async function* convertedStore(c: {dir: string; tensors: WeightLocation[]; format: WeightFormat; params: PrepareWeightStoreParams; chunkBytes: number}): AsyncGenerator<WeightStoreEvent, WeightStore> {
  const {dir, tensors, format, params, chunkBytes} = c
  const nonFloat = new Map([...params.files.tensors].filter(([, t]) => !FLOAT_DTYPES.has(t.dtype)))
  const forms = new Map(tensors.map((t) => [t.name, formsOf(t, format, params)]))
  const described = tensors.map((t) => `${t.name}:${JSON.stringify(forms.get(t.name))}`).sort()
  const tag = format === 'fp32' ? 'fp32' : `${format}-b${QUANT_BLOCK}-${createHash('sha256').update(described.join('\n')).digest('hex').slice(0, 10)}`
  const bin = `weights-${tag}.bin`
  const indexPath = join(dir, `weights-${tag}.json`)
  const release = await acquireBuildLock(join(dir, `weights-${tag}.lock`), () => existsSync(indexPath), params.signal)
  if (release !== undefined) {
    removeStaleTemps(dir, bin)
    const tmp = join(dir, `${bin}.tmp-${process.pid}`)
    const {index, size, layout} = planLayout(tensors, forms)
    let built = false
    try {
      const fd = openSync(tmp, 'w')
      try {
        ftruncateSync(fd, size)
      } finally {
        closeSync(fd)
      }
      const jobs = planJobs(tensors, (t) => layout.get(t.name) ?? {}, (t) => forms.get(t.name)?.w8 === 'kn', chunkBytes, tmp)
      const interrupted = `converting the weights into ${dir} was interrupted; nothing was cached`
      for await (const p of runBuildJobs(jobs, {workers: params.workers, signal: params.signal, interrupted})) {
        yield {type: 'convert', done: p.done, total: p.total, tensor: p.tensor}
      }
      renameSync(tmp, join(dir, bin))
      writeFileSync(`${indexPath}.tmp-${process.pid}`, JSON.stringify(index))
      renameSync(`${indexPath}.tmp-${process.pid}`, indexPath)
      built = true
    } catch (error) {
      if (error instanceof DlecError) {
        throw error
      }
      if (isOutOfSpace(error)) {
        throw new ModelError(`${dir}: no space left for the converted weights (${(size / 1e9).toFixed(1)} GB); free space or pass another cache folder`, 'DLEC_CACHE_FULL')
      }
      throw new ModelError(`${dir}: cannot write the converted weights (${fsReason(error)})`, 'DLEC_CACHE_WRITE')
    } finally {
      // Also on an early return() of this generator (a consumer that stopped at a yield).
      if (!built) {
        rmSync(tmp, {force: true})
      }
      release()
    }
  }
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as Record<string, IndexEntry>
  const ref = (r: Region): {dims: number[]; data: ExternalRef} => ({dims: r.dims, data: {location: bin, offset: r.offset, length: r.length}})
  let bytes = 0
  for (const e of Object.values(index)) {
    for (const r of [e.f32, e.q?.q, e.q?.scales, e.w8?.q, e.w8?.scales]) {
      bytes = Math.max(bytes, r === undefined ? 0 : r.offset + r.length)
    }
  }
  return {
    dir,
    bytes,
    locate(name) {
      const e = index[name]?.f32
      if (e === undefined && nonFloat.has(name)) {
        refuseNonFloat(nonFloat.get(name) as WeightLocation)
      }
      if (e === undefined) {
        throw new ModelError(`tensor ${name} is not in the converted weights (${indexPath})`, 'DLEC_WEIGHT_MISSING')
      }
      return ref(e)
    },
    quantized(name) {
      const q = index[name]?.q
      return q === undefined ? undefined : {bits: q.bits, blockSize: q.blockSize, n: q.n, k: q.k, weight: ref(q.q), scales: ref(q.scales)}
    },
    w8(name) {
      const q = index[name]?.w8
      return q === undefined ? undefined : {n: q.n, k: q.k, weight: ref(q.q), scales: ref(q.scales)}
    },
  }
}

/** Regions of every form of every tensor in the output file, in order, each 64-byte aligned. */
function planLayout(tensors: WeightLocation[], forms: Map<string, Forms>): {index: Record<string, IndexEntry>; size: number; layout: Map<string, ConvertJob['forms']>} {
  let offset = 0
  const reserve = (length: number, dims: number[]): Region => {
    const region = {offset, length, dims}
    offset = Math.ceil((offset + length) / 64) * 64
    return region
  }
  const index: Record<string, IndexEntry> = {}
  const layout = new Map<string, ConvertJob['forms']>()
  for (const t of tensors) {
    const f = forms.get(t.name) as Forms
    const entry: IndexEntry = {}
    const job: ConvertJob['forms'] = {}
    const numel = t.byteLength / dtypeBytes(t.dtype)
    if (f.block !== undefined) {
      const [n, k] = t.shape as [number, number]
      const blocks = k / QUANT_BLOCK
      const blob = (QUANT_BLOCK * f.block) / 8
      const q = reserve(n * blocks * blob, [n, blocks, blob])
      const scales = reserve(n * blocks * 4, [n * blocks])
      entry.q = {bits: f.block, blockSize: QUANT_BLOCK, n, k, q, scales}
      job.block = {bits: f.block, blockSize: QUANT_BLOCK, q: q.offset, scales: scales.offset}
    }
    if (f.w8 !== undefined) {
      // nk: an HF Linear [N, K]; kn: a Conv1D [K, N]. Stored [K, N] either way.
      const [a, b] = t.shape as [number, number]
      const [n, k] = f.w8 === 'nk' ? [a, b] : [b, a]
      const q = reserve(n * k, [k, n])
      const scales = reserve(n * 4, [n])
      entry.w8 = {n, k, q, scales}
      job.w8 = {layout: f.w8, q: q.offset, scales: scales.offset}
    }
    if (f.f32) {
      entry.f32 = reserve(numel * 4, t.shape)
      job.f32 = entry.f32.offset
    }
    index[t.name] = entry
    layout.set(t.name, job)
  }
  return {index, size: offset, layout}
}

/** Row-range jobs of about `chunkBytes` of source each (a whole tensor when `whole`). */
function planJobs(tensors: WeightLocation[], formsOf: (t: WeightLocation) => ConvertJob['forms'], whole: (t: WeightLocation) => boolean, chunkBytes: number, out?: string): ConvertJob[] {
  const jobs: ConvertJob[] = []
  for (const t of tensors) {
    const elemBytes = dtypeBytes(t.dtype)
    const width = t.shape.length > 1 ? (t.shape[t.shape.length - 1] as number) : Math.max(1, t.byteLength / elemBytes)
    const rows = t.byteLength / elemBytes / width
    const per = whole(t) ? rows : Math.max(1, Math.floor(chunkBytes / (width * elemBytes)))
    for (let r = 0; r < rows; r += per) {
      jobs.push({id: jobs.length, name: t.name, file: t.file, offset: t.offset, dtype: t.dtype, elemBytes, width, rowStart: r, rowEnd: Math.min(rows, r + per), totalRows: rows, out, forms: formsOf(t)})
    }
  }
  return jobs
}

function lookup(files: WeightFiles, name: string): WeightLocation {
  const t = files.tensors.get(name)
  if (t === undefined) {
    throw new ModelError(`tensor ${name} is not in the checkpoint`, 'DLEC_WEIGHT_MISSING')
  }
  refuseNonFloat(t)
  return t
}

/** An integer or bool weight would be read as float32 bit patterns: refused, naming the tensor. */
function refuseNonFloat(t: WeightLocation): void {
  if (!FLOAT_DTYPES.has(t.dtype)) {
    throw new ModelError(`${t.file}: tensor ${t.name} is ${t.dtype}; dlec runs float weights only (F32, F16, BF16, F64)`, 'DLEC_WEIGHT_DTYPE')
  }
}

/** Removes `<bin>.tmp-PID` files left by a build whose process is gone (killed before it could clean up). */
function removeStaleTemps(dir: string, bin: string): void {
  for (const name of readdirSync(dir)) {
    const m = name.startsWith(`${bin}.tmp-`) ? /\.tmp-(\d+)$/.exec(name) : null
    if (m !== null && !processAlive(Number(m[1]))) {
      rmSync(join(dir, name), {force: true})
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to)
    return true
  } catch {
    return false
  }
}
