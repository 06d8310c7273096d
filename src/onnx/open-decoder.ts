/**
 * The decoder engine's public API (used by eval, profile and curve):
 *
 *   const dec = await openDecoder({modelDir, cacheDir})
 *   const r = await dec.run({inputIds: [[1, 403, 407], [1, 9]], layers: [0, 1, 1, 2], outputs: {logits: 'all', norms: true, cosineGaps: 8}})
 *   r.outputs.logits      // {dims: [2, 3, V], data: Float32Array}; rows right-padded to r.seqLen
 *   r.outputs.norm_2      // [2, 3]: norm of the state entering the 3rd layer of the sequence
 *   const h = await dec.run({inputIds, layers: [0, 1], outputs: {logits: 'none', hidden: [2]}})
 *   await dec.run({hidden: {data: h.outputs.hidden_2.data, dims: [2, 3, H], lengths: [3, 2]}, layers: [2, 2, 3]})
 *   await dec.release()
 *
 * `layers` is any sequence of original layer indices (default: all, in order); repeats share weights.
 * `scales` (per position) multiplies a copy's attention / MLP output, as mergekit's `scale` on its
 * output projections does (identity copies: 0). `quant: 'int8' | 'int4'` block-quantizes the
 * projections and embeddings once into the cache (MatMulNBits / GatherBlockQuantized).
 * Output names and shapes are documented in graph-outputs.ts. A graph per (layers, scales, start,
 * outputs) is written once into the model's cache folder and its session kept (the last
 * `maxSessions`). fp32 weights are memory-mapped by ONNX Runtime from the (hard-linked) safetensors
 * files, so sessions share them through the page cache.
 */
import {createHash} from 'node:crypto'
import {existsSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ModelError, OnnxError} from '../errors.js'
import {resolveArchitecture, type ModelConfigJson} from '../architectures/registry.js'
import type {ArchitectureDefinition, WeightRole} from '../architectures/schema.js'
import {matchCheckpoint} from '../architectures/match-checkpoint.js'
import {decoderSpec, type DecoderSpec} from './decoder-spec.js'
import {buildDecoderGraph, type BranchScale, type GraphWeights} from './decoder-graph.js'
import type {GraphOutputRequest} from './graph-outputs.js'
import {createSession, type HostTensor, type OrtSession} from './session.js'
import {readWeightFiles} from './weight-files.js'
import {prepareWeightStoreIter, type WeightFormat, type WeightStoreEvent} from './weight-store.js'

/** Tensors int8 / int4 store block-quantized: projections and the token embeddings (the rest stays float32). */
const QUANTIZED_ROLES = new Set<WeightRole>(['embed', 'q_proj', 'k_proj', 'v_proj', 'o_proj', 'qkv_proj', 'gate_proj', 'up_proj', 'gate_up_proj', 'down_proj', 'lm_head'])

export interface OpenDecoderParams {
  /** A local model folder (config.json + safetensors). */
  modelDir: string
  /** Where converted weights and graphs are cached (e.g. ~/.cache/dlec). */
  cacheDir: string
  threads?: number
  /** Weight format: fp32 (default), or int8 / int4 block-quantized projections (MatMulNBits). */
  quant?: WeightFormat
  /** Sessions kept open at once (default 2). */
  maxSessions?: number
  /** Source bytes read at a time when converting / checking weights (default 16 MiB). */
  chunkBytes?: number
}

export interface DecoderRunParams {
  layers?: number[]
  /** Per position of `layers`: scales of that copy's attention / MLP outputs (identity copies: 0). */
  scales?: (BranchScale | undefined)[]
  /** Token ids per row (ragged: rows are right-padded and masked). */
  inputIds?: number[][]
  /** A hidden state [B, T, H] entering layers[0], with each row's real length. */
  hidden?: {data: Float32Array; dims: [number, number, number]; lengths: number[]}
  outputs?: GraphOutputRequest
}

export interface DecoderResult {
  batch: number
  seqLen: number
  lengths: number[]
  outputs: Record<string, HostTensor>
}

export interface Decoder {
  readonly modelDir: string
  readonly config: ModelConfigJson
  readonly arch: ArchitectureDefinition
  readonly spec: DecoderSpec
  run(params: DecoderRunParams): Promise<DecoderResult>
  release(): Promise<void>
}

export type OpenDecoderEvent = WeightStoreEvent

export async function* openDecoderIter(params: OpenDecoderParams): AsyncGenerator<OpenDecoderEvent, Decoder> {
  const {modelDir} = params
  const configPath = join(modelDir, 'config.json')
  if (!existsSync(configPath)) {
    throw new ModelError(`${modelDir}: no config.json`, 'DLEC_MODEL_NO_CONFIG')
  }
  let config: ModelConfigJson
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8')) as ModelConfigJson
  } catch (error) {
    throw new ModelError(`${configPath}: not valid JSON (${(error as Error).message})`, 'DLEC_CONFIG_INVALID')
  }
  const arch = resolveArchitecture(config, configPath)
  const spec = decoderSpec(config, arch, configPath)
  const files = await readWeightFiles(modelDir)
  const match = matchCheckpoint({arch, numLayers: spec.numLayers, names: files.tensors.keys()})
  if (match.missing.length > 0) {
    throw new ModelError(`${modelDir}: the checkpoint lacks ${match.missing.slice(0, 3).join(', ')}${match.missing.length > 3 ? ` and ${match.missing.length - 3} more` : ''}`, 'DLEC_WEIGHT_MISSING')
  }
  const byRole = new Map<string, string>()
  for (const t of match.tensors) {
    if (t.stored !== undefined) {
      byRole.set(`${t.role}|${t.layer ?? ''}`, t.stored)
    }
  }
  const quantize = new Set<string>()
  for (const t of match.tensors) {
    const conv1d = arch.blockKind === 'gpt2' && t.role !== 'lm_head' && t.role !== 'embed'
    if (t.stored !== undefined && QUANTIZED_ROLES.has(t.role) && !conv1d) {
      quantize.add(t.stored)
    }
  }
  const store = yield* prepareWeightStoreIter({files, cacheDir: params.cacheDir, format: params.quant ?? 'fp32', quantize, chunkBytes: params.chunkBytes})
  const weights: GraphWeights = {
    find: (role: WeightRole, layer?: number) => byRole.get(`${role}|${layer ?? ''}`),
    tensor: (name) => store.locate(name),
    quantized: (name) => store.quantized(name),
  }
  const sessions = new Map<string, OrtSession>()
  const maxSessions = params.maxSessions ?? 2
  const sessionFor = async (key: string, build: () => Uint8Array): Promise<OrtSession> => {
    const known = sessions.get(key)
    if (known) {
      sessions.delete(key)
      sessions.set(key, known)
      return known
    }
    const bytes = build()
    const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 20)
    const path = join(store.dir, `graph-${hash}.onnx`)
    if (!existsSync(path)) {
      writeFileSync(`${path}.tmp-${process.pid}`, bytes)
      renameSync(`${path}.tmp-${process.pid}`, path)
    }
    while (sessions.size >= maxSessions) {
      const [oldKey, old] = sessions.entries().next().value as [string, OrtSession]
      sessions.delete(oldKey)
      await old.release()
    }
    // MatMulNBits runs its fast kernels only on pre-packed weights; fp32 Gemm does not need it, and
    // without it repeated layers share one copy of each weight.
    const session = await createSession({path, threads: params.threads, prepack: (params.quant ?? 'fp32') !== 'fp32'})
    sessions.set(key, session)
    return session
  }
  return {
    modelDir,
    config,
    arch,
    spec,
    async run(run) {
      const layers = run.layers ?? Array.from({length: spec.numLayers}, (_, i) => i)
      const outputs = run.outputs ?? {logits: 'all'}
      const start = run.hidden === undefined ? 'ids' : 'hidden'
      const scales = run.scales?.some((x) => x !== undefined) === true ? run.scales : undefined
      const key = JSON.stringify({layers, scales, start, outputs})
      const session = await sessionFor(key, () => buildDecoderGraph({spec, weights, layers, scales, start, outputs}))
      const {feeds, batch, seqLen, lengths} = makeFeeds(run, spec)
      const result = await session.run(feeds, [...session.outputNames])
      return {batch, seqLen, lengths, outputs: result}
    },
    async release() {
      for (const s of sessions.values()) {
        await s.release()
      }
      sessions.clear()
    },
  }
}

/** Opens a decoder without progress events. */
export async function openDecoder(params: OpenDecoderParams): Promise<Decoder> {
  const it = openDecoderIter(params)
  for (;;) {
    const r = await it.next()
    if (r.done === true) {
      return r.value
    }
  }
}

function makeFeeds(run: DecoderRunParams, spec: DecoderSpec): {feeds: Record<string, HostTensor>; batch: number; seqLen: number; lengths: number[]} {
  if (run.hidden !== undefined) {
    const [batch, seqLen, width] = run.hidden.dims
    if (width !== spec.hidden || run.hidden.data.length !== batch * seqLen * width || run.hidden.lengths.length !== batch) {
      throw new OnnxError(`hidden input must be [B, T, ${spec.hidden}] with B lengths (got [${run.hidden.dims.join(', ')}])`, 'DLEC_INPUT_SHAPE')
    }
    return {feeds: {hidden: {dims: [batch, seqLen, width], data: run.hidden.data}, attention_mask: maskOf(run.hidden.lengths, seqLen)}, batch, seqLen, lengths: run.hidden.lengths}
  }
  const rows = run.inputIds
  if (rows === undefined || rows.length === 0 || rows.some((r) => r.length === 0)) {
    throw new OnnxError('run needs inputIds (non-empty rows) or hidden', 'DLEC_INPUT_SHAPE')
  }
  const lengths = rows.map((r) => r.length)
  const seqLen = Math.max(...lengths)
  if (seqLen > spec.maxPositions) {
    throw new OnnxError(`a row has ${seqLen} tokens; the model has ${spec.maxPositions} positions (chunk the text)`, 'DLEC_INPUT_TOO_LONG')
  }
  const ids = new BigInt64Array(rows.length * seqLen)
  rows.forEach((r, b) =>
    r.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= spec.vocab) {
        throw new OnnxError(`token id ${id} is outside the vocabulary (0..${spec.vocab - 1})`, 'DLEC_INPUT_TOKEN')
      }
      ids[b * seqLen + t] = BigInt(id)
    }),
  )
  return {feeds: {input_ids: {dims: [rows.length, seqLen], data: ids}, attention_mask: maskOf(lengths, seqLen)}, batch: rows.length, seqLen, lengths}
}

function maskOf(lengths: number[], seqLen: number): HostTensor {
  const mask = new BigInt64Array(lengths.length * seqLen)
  lengths.forEach((len, b) => mask.fill(1n, b * seqLen, b * seqLen + len))
  return {dims: [lengths.length, seqLen], data: mask}
}
