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
 * output projections does (identity copies: 0); with `scaleFeeds` they are graph inputs, so one
 * session runs every scale of a sequence. `quant: 'int8' | 'int4'` block-quantizes the
 * projections and embeddings once into the cache (MatMulNBits / GatherBlockQuantized); `'w8a8'`
 * stores the projections as int8 per output channel and quantizes the activations at run time
 * (DynamicQuantizeMatMul); `'auto'` (the default) picks one by model size and CPU
 * (weight-format.ts) and `dec.weightFormat` says which and why.
 * Output names and shapes are documented in graph-outputs.ts. A graph per (layers, scales, start,
 * outputs) is written once into the model's cache folder and its session kept (the last
 * `maxSessions`). `decodeStep` runs the KV-cache graph of a sequence (decoder-graph.ts
 * buildKvCacheGraph): the prompt first with no past, then one token at a time with the returned
 * cache, each copy of a repeated layer keeping its own keys and values. fp32 weights are memory-mapped by ONNX Runtime from the (hard-linked) safetensors
 * files, so sessions share them through the page cache.
 */
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {OnnxError} from '../errors.js'
import {writeFileAtomicSync} from '../fs/write-atomic.js'
import {BLOCK_KINDS} from '../architectures/block-kinds.js'
import type {ModelConfigJson} from '../architectures/registry.js'
import type {ArchitectureDefinition, WeightRole} from '../architectures/schema.js'
import {modelOf, type ModelInput} from '../model/loaded-model.js'
import {resolveDevice, type DecoderOptions, type Device, type DeviceChoice} from './devices.js'
import {checkCheckpoint} from './check-checkpoint.js'
import {decoderSpec, type DecoderSpec} from './decoder-spec.js'
import {branchScaleInput, buildDecoderGraph, buildKvCacheGraph, pastKey, pastValue, presentKey, presentValue, type BranchScale, type GraphWeights} from './decoder-graph.js'
import {graphOutputs, type GraphOutputRequest} from './graph-outputs.js'
import {createSession, type HostTensor, type OrtSession} from './session.js'
import {prepareWeightStoreIter, type WeightStoreEvent} from './weight-store.js'
import {dtypeBytes} from '../safetensors/dtype.js'
import {chooseWeightFormat, type FormatDecision} from './weight-format.js'
import {cpuFeatures} from './cpu-features.js'
import {FLOAT_DTYPES} from './float-convert.js'
import {drain} from '../drain.js'

/** Tensors the quantized formats store as int8 / int4: projections and the head (plus the token embeddings, below). */
const QUANTIZED_ROLES = new Set<WeightRole>(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'qkv_proj', 'gate_proj', 'up_proj', 'gate_up_proj', 'down_proj', 'lm_head'])

export interface OpenDecoderParams extends ModelInput, DecoderOptions {
  /** Sessions kept open at once (default 2). */
  maxSessions?: number
  /**
   * Pre-pack fp32 weights (always on for int8 / int4): faster matrix products, most of all one token
   * at a time, but every graph node holds its own packed copy, so repeated layers multiply weight
   * memory. Default off.
   */
  prepack?: boolean
  /** Source bytes read at a time when converting / checking weights (default 16 MiB). */
  chunkBytes?: number
  /** Stops a first weight-cache build between tensors (nothing half-built is kept). */
  signal?: AbortSignal
}

export interface DecoderRunParams {
  layers?: number[]
  /** Per position of `layers`: scales of that copy's attention / MLP outputs (identity copies: 0). */
  scales?: (BranchScale | undefined)[]
  /**
   * Feed `scales` to the graph as inputs rather than building them in as constants: one session
   * then serves every scale of this layer sequence (the curve's soft copies). Same numbers.
   */
  scaleFeeds?: boolean
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

/** Keys and values of every position of a layer sequence, [B, kvHeads, length, headDim] each. */
export interface KvState {
  length: number
  keys: HostTensor[]
  values: HostTensor[]
}

export interface DecodeStepParams {
  layers?: number[]
  scales?: (BranchScale | undefined)[]
  /** New tokens per row; rows have equal lengths (no padding). */
  inputIds: number[][]
  /** The cache the previous step returned (absent: none, for the prompt). */
  past?: KvState
}

export interface DecodeStepResult {
  /** Logits at each row's last new token, [B, V]. */
  logits: Float32Array
  /** The cache including the new tokens, for the next step. */
  present: KvState
}

export interface Decoder {
  readonly modelDir: string
  readonly config: ModelConfigJson
  readonly arch: ArchitectureDefinition
  readonly spec: DecoderSpec
  /** The weight format the graphs run, and why it was chosen. */
  readonly weightFormat: FormatDecision
  run(params: DecoderRunParams): Promise<DecoderResult>
  /** One KV-cache decoding step of a layer sequence (default: the model's own layers). */
  decodeStep(params: DecodeStepParams): Promise<DecodeStepResult>
  /** Builds and opens, ahead of time, the session that `decodeStep` (or `run` with these outputs) will use. */
  prepare(params: {layers?: number[]; scales?: (BranchScale | undefined)[]; kvCache?: boolean; outputs?: GraphOutputRequest}): Promise<void>
  release(): Promise<void>
}

/** Which device the decoder runs on, and why (e.g. `--device auto` without CUDA). */
export interface DeviceEvent {
  type: 'device'
  device: Device
  /** What was asked for (`--device`). */
  choice: DeviceChoice
  reason: string
}

export type OpenDecoderEvent = WeightStoreEvent | DeviceEvent

export async function* openDecoderIter(params: OpenDecoderParams): AsyncGenerator<OpenDecoderEvent, Decoder> {
  const device = resolveDevice(params.device)
  const model = await modelOf(params)
  const {config, arch, match} = model
  const modelDir = model.location.dir
  const spec = decoderSpec(config, arch, model.configPath)
  const files = model.weights
  checkCheckpoint({spec, arch, match, shapes: new Map([...files.tensors].map(([n, t]) => [n, t.shape])), dtypes: files.tensors, source: model.configPath})
  yield {type: 'device', device: device.device, choice: params.device ?? 'cpu', reason: device.reason}
  const byRole = new Map<string, string>()
  for (const t of match.tensors) {
    if (t.stored !== undefined) {
      byRole.set(`${t.role}|${t.layer ?? ''}`, t.stored)
    }
  }
  // Linear weights (quantized by int8 / int4 / w8a8), embedding tables (Gather) and Conv1D weights
  // (stored [in, out]; only w8a8 quantizes them, per column).
  const quantize = new Set<string>()
  const gather = new Set<string>()
  const kn = new Set<string>()
  const tiedHead = !match.tensors.some((t) => t.stored !== undefined && t.role === 'lm_head')
  for (const t of match.tensors) {
    if (t.stored === undefined) {
      continue
    }
    if (t.role === 'embed') {
      gather.add(t.stored)
      if (tiedHead) {
        quantize.add(t.stored)
      }
    } else if (QUANTIZED_ROLES.has(t.role)) {
      quantize.add(t.stored)
      if (BLOCK_KINDS[arch.blockKind].conv1d && t.role !== 'lm_head') {
        kn.add(t.stored)
      }
    }
  }
  const floats = [...files.tensors.values()].filter((t) => FLOAT_DTYPES.has(t.dtype))
  const numel = (t: {byteLength: number; dtype: Parameters<typeof dtypeBytes>[0]}): number => t.byteLength / dtypeBytes(t.dtype)
  const weightFormat = chooseWeightFormat({
    requested: params.quant,
    tensors: floats.map((t) => ({dtype: t.dtype, elements: numel(t)})),
    quantizedElements: floats.filter((t) => quantize.has(t.name) || gather.has(t.name)).reduce((sum, t) => sum + numel(t), 0),
    cpu: cpuFeatures(),
  })
  const format = weightFormat.format
  const store = yield* prepareWeightStoreIter({files, cacheDir: params.cacheDir, format, quantize, gather, kn, chunkBytes: params.chunkBytes, signal: params.signal})
  const weights: GraphWeights = {
    find: (role: WeightRole, layer?: number) => byRole.get(`${role}|${layer ?? ''}`),
    tensor: (name) => store.locate(name),
    quantized: (name) => store.quantized(name),
    w8: (name) => store.w8(name),
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
      writeFileAtomicSync(path, bytes)
    }
    while (sessions.size >= maxSessions) {
      const [oldKey, old] = sessions.entries().next().value as [string, OrtSession]
      sessions.delete(oldKey)
      await old.release()
    }
    // MatMulNBits runs its fast kernels only on pre-packed weights. fp32 Gemm and W8A8
    // DynamicQuantizeMatMul run about as fast without (bench/quant/kernels.ts), and then every
    // session and every repeated layer reads the one memory-mapped copy of the weights.
    const session = await createSession({path, threads: params.threads, prepack: params.prepack === true || format === 'int8' || format === 'int4', providers: device.providers})
    sessions.set(key, session)
    return session
  }
  const sequenceOf = (p: {layers?: number[]; scales?: (BranchScale | undefined)[]}): {layers: number[]; scales?: (BranchScale | undefined)[]} => ({
    layers: p.layers ?? Array.from({length: spec.numLayers}, (_, i) => i),
    scales: p.scales?.some((x) => x !== undefined) === true ? p.scales : undefined,
  })
  const runSession = (layers: number[], scales: (BranchScale | undefined)[] | undefined, start: 'ids' | 'hidden', outputs: GraphOutputRequest): Promise<OrtSession> =>
    sessionFor(JSON.stringify({layers, scales, start, outputs}), () => buildDecoderGraph({spec, weights, layers, scales, start, outputs}))
  const fedSession = (layers: number[], start: 'ids' | 'hidden', outputs: GraphOutputRequest): Promise<OrtSession> =>
    sessionFor(JSON.stringify({layers, scaleFeeds: true, start, outputs}), () => buildDecoderGraph({spec, weights, layers, scaleInputs: true, start, outputs}))
  const stepSession = (layers: number[], scales: (BranchScale | undefined)[] | undefined): Promise<OrtSession> =>
    sessionFor(JSON.stringify({layers, scales, kvCache: true}), () => buildKvCacheGraph({spec, weights, layers, scales}))
  return {
    modelDir,
    config,
    arch,
    spec,
    weightFormat,
    async run(run) {
      const {layers, scales} = sequenceOf(run)
      const outputs = run.outputs ?? {logits: 'all'}
      const start = run.hidden === undefined ? 'ids' : 'hidden'
      const session = run.scaleFeeds === true ? await fedSession(layers, start, outputs) : await runSession(layers, scales, start, outputs)
      const {feeds, batch, seqLen, lengths} = makeFeeds(run, spec)
      if (run.scaleFeeds === true) {
        const fed = graphOutputs.plan(outputs, layers.length).runLayers
        for (let i = 0; i < fed; i++) {
          for (const branch of ['attn', 'mlp'] as const) {
            feeds[branchScaleInput(i, branch)] = {dims: [1], data: Float32Array.of(run.scales?.[i]?.[branch] ?? 1)}
          }
        }
      }
      const result = await session.run(feeds, [...session.outputNames])
      return {batch, seqLen, lengths, outputs: result}
    },
    async decodeStep(step) {
      const {layers, scales} = sequenceOf(step)
      const session = await stepSession(layers, scales)
      const feeds = stepFeeds(step, layers.length, spec)
      const length = (step.past?.length ?? 0) + (step.inputIds[0]?.length ?? 0)
      const names = ['logits', ...layers.flatMap((_, i) => [presentKey(i), presentValue(i)])]
      const out = await session.run(feeds, names)
      const tensor = (name: string): HostTensor => out[name] as HostTensor
      return {
        logits: tensor('logits').data as Float32Array,
        present: {length, keys: layers.map((_, i) => tensor(presentKey(i))), values: layers.map((_, i) => tensor(presentValue(i)))},
      }
    },
    async prepare(p) {
      const {layers, scales} = sequenceOf(p)
      await (p.kvCache === true ? stepSession(layers, scales) : runSession(layers, scales, 'ids', p.outputs ?? {logits: 'all'}))
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
  return drain(openDecoderIter(params))
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

function stepFeeds(step: DecodeStepParams, slots: number, spec: DecoderSpec): Record<string, HostTensor> {
  const rows = step.inputIds
  const width = rows[0]?.length ?? 0
  if (rows.length === 0 || width === 0 || rows.some((r) => r.length !== width)) {
    throw new OnnxError('decodeStep needs rows of new token ids, all of the same non-zero length', 'DLEC_INPUT_SHAPE')
  }
  const pastLength = step.past?.length ?? 0
  if (pastLength + width > spec.maxPositions) {
    throw new OnnxError(`${pastLength + width} tokens exceed the model's ${spec.maxPositions} positions`, 'DLEC_INPUT_TOO_LONG')
  }
  if (step.past !== undefined && (step.past.keys.length !== slots || step.past.values.length !== slots)) {
    throw new OnnxError(`the cache has ${step.past.keys.length} slots; the layer sequence has ${slots} positions`, 'DLEC_INPUT_SHAPE')
  }
  const ids = new BigInt64Array(rows.length * width)
  rows.forEach((r, b) =>
    r.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= spec.vocab) {
        throw new OnnxError(`token id ${id} is outside the vocabulary (0..${spec.vocab - 1})`, 'DLEC_INPUT_TOKEN')
      }
      ids[b * width + t] = BigInt(id)
    }),
  )
  const feeds: Record<string, HostTensor> = {input_ids: {dims: [rows.length, width], data: ids}}
  const empty: HostTensor = {dims: [rows.length, spec.kvHeads, 0, spec.headDim], data: new Float32Array(0)}
  for (let i = 0; i < slots; i++) {
    feeds[pastKey(i)] = step.past?.keys[i] ?? empty
    feeds[pastValue(i)] = step.past?.values[i] ?? empty
  }
  return feeds
}

function maskOf(lengths: number[], seqLen: number): HostTensor {
  const mask = new BigInt64Array(lengths.length * seqLen)
  lengths.forEach((len, b) => mask.fill(1n, b * seqLen, b * seqLen + len))
  return {dims: [lengths.length, seqLen], data: mask}
}
