import {BLOCK_KINDS} from '../architectures/block-kinds.js'
import type {WeightRole} from '../architectures/schema.js'
import {OnnxError} from '../errors.js'
import {GraphBuilder} from './graph-builder.js'
import type {DecoderSpec} from './decoder-spec.js'
import type {BlockContext, BranchScale, FusedAttention} from './blocks/block-context.js'
import {decoderBlock} from './blocks/decoder-block.js'
import {norm} from './blocks/norm.js'
import {graphOutputs, type GraphOutputRequest} from './graph-outputs.js'
import {profileReducer} from './profile-reductions.js'
import type {ExternalRef} from './proto.js'

/** How the graph reaches the weights: stored names by role, and where each tensor's bytes are. */
export interface GraphWeights {
  /** Stored tensor name of a role (layer undefined for pre/post weights); undefined when absent. */
  find(role: WeightRole, layer?: number): string | undefined
  /** The tensor as a float32 initializer: shape and location of its bytes. */
  tensor(name: string): {dims: number[]; data: ExternalRef}
  /** 4/8-bit MatMulNBits form of a [out, in] projection, when the weights are quantized. */
  quantized?(name: string): QuantizedWeight | undefined
  /** W8A8 form of a linear weight (int8 [K, N], one scale per output channel), when stored so. */
  w8?(name: string): W8Weight | undefined
}

export interface W8Weight {
  n: number
  k: number
  /** int8 [K, N]. */
  weight: {dims: number[]; data: ExternalRef}
  /** float [N]: the weight of output channel j is weight[:, j] * scales[j]. */
  scales: {dims: number[]; data: ExternalRef}
}

export interface QuantizedWeight {
  bits: 4 | 8
  blockSize: number
  /** N (out features) and K (in features). */
  n: number
  k: number
  weight: {dims: number[]; data: ExternalRef}
  scales: {dims: number[]; data: ExternalRef}
}

export type {BranchScale} from './blocks/block-context.js'

export interface DecoderGraphParams {
  spec: DecoderSpec
  weights: GraphWeights
  /** The layer sequence, by original index, e.g. [0, 1, 2, 2, 3]. */
  layers: number[]
  /** Per position of `layers`: output scales of that copy (undefined: unscaled). */
  scales?: (BranchScale | undefined)[]
  /**
   * Scales as graph inputs instead: position i multiplies its attention and MLP outputs by the
   * float [1] inputs `branchScaleInput(i, 'attn' | 'mlp')`, so one session runs every scale
   * (`scales` is then ignored). Without it the graph is unchanged.
   */
  scaleInputs?: boolean
  /** `ids`: input_ids [B, T]; `hidden`: a hidden state [B, T, H] entering layers[0]. */
  start: 'ids' | 'hidden'
  outputs: GraphOutputRequest
}

/** A KV-cache decoding graph: the layer sequence (repeats share weights) and its copies' scales. */
export interface KvCacheGraphParams {
  spec: DecoderSpec
  weights: GraphWeights
  layers: number[]
  scales?: (BranchScale | undefined)[]
  /**
   * Attention as one com.microsoft GroupQueryAttention node per layer (default: where the spec
   * allows it, see `fusedAttentionFits`); false: standard ops (Concat, MatMul, Softmax).
   */
  fused?: boolean
}

/**
 * Whether GroupQueryAttention runs a layer sequence's attention here: ONNX Runtime's CPU kernel
 * needs head_dim a multiple of 16; full (not partial) rotary or none; and, as only these are
 * checked against transformers, no sliding window and no attention soft-capping. Otherwise the
 * graph uses standard ops (same results, more nodes).
 */
export function fusedAttentionFits(spec: DecoderSpec, layers: number[]): boolean {
  const fullRotary = spec.rope === undefined || spec.rope.rotaryDim === spec.headDim
  return spec.headDim % 16 === 0 && fullRotary && spec.attnSoftcap === undefined && layers.every((l) => spec.slidingWindow[l] === undefined)
}

/** Input name of the fed scale of position `slot`'s attention or MLP output (graphs built with `scaleInputs`). */
export const branchScaleInput = (slot: number, branch: 'attn' | 'mlp'): string => `${branch}_scale_${slot}`

/** Input names of the KV-cache graph's past keys / values for position `slot` of the layer sequence. */
export const pastKey = (slot: number): string => `past_key_${slot}`
export const pastValue = (slot: number): string => `past_value_${slot}`
/** Output names of the KV-cache graph's present keys / values (past + new). */
export const presentKey = (slot: number): string => `present_key_${slot}`
export const presentValue = (slot: number): string => `present_value_${slot}`

/**
 * Builds the ONNX graph of a decoder running `layers` in order. Inputs: `input_ids` (int64 [B, T])
 * or `hidden` (float [B, T, H]), and `attention_mask` (int64 [B, T], 1 = token, right padding).
 * A repeated layer references the same initializers. Outputs are what `outputs` asks for (see
 * graph-outputs.ts); layers after the last one any output needs are left out.
 */
export function buildDecoderGraph(params: DecoderGraphParams): Uint8Array {
  const {spec, weights, layers, start, outputs} = params
  checkLayers(spec, layers)
  const g = new GraphBuilder('dlec_decoder')
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq'])
  const ids = start === 'ids' ? g.input('input_ids', 'int64', ['batch', 'seq']) : undefined
  const hiddenIn = start === 'hidden' ? g.input('hidden', 'float', ['batch', 'seq', spec.hidden]) : undefined
  const B = g.op('Shape', [mask], {start: 0, end: 1}, {name: 'dim_b'})
  const T = g.op('Shape', [mask], {start: 1, end: 2}, {name: 'dim_t'})
  const positions = g.shaped(g.op('Range', [g.constInt64([0], []), g.op('Squeeze', [T]), g.constInt64([1], [])], {}, {name: 'positions'}), 'int64', ['seq'])
  const {ctx, initializer} = blockContext({g, spec, weights, B, T, positions, keyPositions: positions, keyMask: mask})
  let x = ids === undefined ? g.shaped(g.op('Reshape', [hiddenIn as string, g.constInt64([-1, spec.hidden])], {}, {name: 'h0'}), 'float', ['rows', spec.hidden]) : embed(ctx, weights, ids, positions)
  const plan = graphOutputs.plan(outputs, layers.length)
  const states: string[] = [x]
  const reducer = outputs.reduced === undefined ? undefined : profileReducer({g, spec, mask, positions, bt: ctx.shapes.bt, gaps: outputs.reduced.gaps})
  reducer?.add(x)
  for (let i = 0; i < plan.runLayers; i++) {
    const fed = (branch: 'attn' | 'mlp'): {input: string} => ({input: g.input(branchScaleInput(i, branch), 'float', [1])})
    const scale = params.scaleInputs === true ? {attn: fed('attn'), mlp: fed('mlp')} : params.scales?.[i]
    x = decoderBlock(ctx, x, layers[i] as number, scale, i)
    states.push(x)
    reducer?.add(x)
  }
  const head = (): {final: string; logits: string} => lmHead(ctx, weights, initializer, x)
  graphOutputs.emit({g, spec, mask, shapes: ctx.shapes, states, head, request: outputs})
  reducer?.finish()
  return g.toBytes()
}

/**
 * Builds the KV-cache decoding graph of `layers` for unpadded rows. Inputs: `input_ids` (int64
 * [B, T], the new tokens) and, for each position i of the sequence, `past_key_i` / `past_value_i`
 * (float [B, kvHeads, P, headDim], keys after the rotary embedding; P = 0 for the prompt). The new
 * tokens sit at positions P..P+T-1. Outputs: `logits` [B, V] at the last new token and
 * `present_key_i` / `present_value_i` [B, kvHeads, P + T, headDim]. A repeated layer shares its
 * weights but has its own cache slot per position, as its copies see different inputs.
 */
export function buildKvCacheGraph(params: KvCacheGraphParams): Uint8Array {
  const {spec, weights, layers} = params
  checkLayers(spec, layers)
  if (layers.length === 0) {
    throw new OnnxError('a KV-cache graph needs at least one layer', 'DLEC_LAYER_RANGE')
  }
  const g = new GraphBuilder('dlec_decoder_kv')
  const ids = g.input('input_ids', 'int64', ['batch', 'seq'])
  const past = layers.map((_, i) => ({
    key: g.input(pastKey(i), 'float', ['batch', spec.kvHeads, 'past', spec.headDim]),
    value: g.input(pastValue(i), 'float', ['batch', spec.kvHeads, 'past', spec.headDim]),
  }))
  const B = g.op('Shape', [ids], {start: 0, end: 1}, {name: 'dim_b'})
  const T = g.op('Shape', [ids], {start: 1, end: 2}, {name: 'dim_t'})
  const P = g.op('Shape', [past[0]?.key as string], {start: 2, end: 3}, {name: 'dim_past'})
  const total = g.op('Squeeze', [g.op('Add', [P, T], {}, {name: 'dim_total'})])
  const one = g.constInt64([1], [])
  // Symbols of the KV-cache graph: `seq` new tokens, `total` cached + new ones, `rows` = batch x seq.
  const positions = g.shaped(g.op('Range', [g.op('Squeeze', [P]), total, one], {}, {name: 'positions'}), 'int64', ['seq'])
  const keyPositions = g.shaped(g.op('Range', [g.constInt64([0], []), total, one], {}, {name: 'key_positions'}), 'int64', ['total'])
  const axis2 = g.constInt64([2])
  const cache = (slot: number, k5: string, v5: string): {k5: string; v5: string} => {
    const slotPast = past[slot]
    if (slotPast === undefined) {
      throw new OnnxError(`no cache slot ${slot}`, 'DLEC_LAYER_RANGE')
    }
    // [B, nKv, P, d] -> [B, nKv, 1, P, d], joined with the new [B, nKv, 1, T, d] along the tokens.
    const join = (pastValue: string, now: string, name: string): string =>
      g.shaped(g.op('Concat', [g.op('Unsqueeze', [pastValue, axis2]), now], {axis: 3}, {name}), 'float', ['batch', spec.kvHeads, 1, 'total', spec.headDim])
    const k = join(slotPast.key, k5, `kv${slot}_k`)
    const v = join(slotPast.value, v5, `kv${slot}_v`)
    const dims = ['batch', spec.kvHeads, 'total', spec.headDim]
    g.output(g.op('Squeeze', [k, axis2]), presentKey(slot), 'float', dims)
    g.output(g.op('Squeeze', [v, axis2]), presentValue(slot), 'float', dims)
    return {k5: k, v5: v}
  }
  const fused = (params.fused ?? true) && fusedAttentionFits(spec, layers)
  const {ctx, initializer} = blockContext({g, spec, weights, B, T, positions, keyPositions, cache, join: fused})
  if (fused) {
    ctx.fused = fusedContext(g, spec, B, T, total, keyPositions, past)
  }
  let x = embed(ctx, weights, ids, positions)
  for (let i = 0; i < layers.length; i++) {
    x = decoderBlock(ctx, x, layers[i] as number, params.scales?.[i], i)
  }
  // Only the last new token's logits are needed: the head runs on that row alone.
  const last = g.op('Reshape', [g.op('Slice', [g.op('Reshape', [x, ctx.shapes.bth]), g.constInt64([-1]), g.constInt64([Number.MAX_SAFE_INTEGER]), g.constInt64([1])]), g.constInt64([-1, spec.hidden])], {}, {name: 'last_token'})
  const {logits} = lmHead(ctx, weights, initializer, last)
  g.output(logits, 'logits', 'float', ['batch', spec.vocab])
  return g.toBytes()
}

function fusedContext(
  g: GraphBuilder,
  spec: DecoderSpec,
  B: string,
  T: string,
  total: string,
  keyPositions: string,
  past: {key: string; value: string}[],
): FusedAttention {
  const shapes = new Map<string, string>()
  const shape = (key: string, dims: number[]): string => {
    const known = shapes.get(key)
    if (known !== undefined) {
      return known
    }
    const made = g.op('Concat', [B, T, g.constInt64(dims)], {axis: 0}, {name: `shape_${key}`})
    shapes.set(key, made)
    return made
  }
  const totalMinusOne = g.op('Sub', [total, g.constInt64([1], [])])
  const seqlensK = g.op('Cast', [g.op('Expand', [totalMinusOne, B])], {to: 6}, {name: 'seqlens_k'})
  const totalLength = g.op('Cast', [total], {to: 6}, {name: 'total_length'})
  let rope: FusedAttention['rope']
  if (spec.rope) {
    const pos = g.op('Unsqueeze', [g.op('Cast', [keyPositions], {to: 1}), g.constInt64([1])], {}, {name: 'cache_pos_f'})
    const freqs = g.op('Mul', [pos, g.constFloat(spec.rope.invFreq)], {}, {name: 'cache_freqs'})
    rope = {cos: g.op('Cos', [freqs], {}, {name: 'cos_cache'}), sin: g.op('Sin', [freqs], {}, {name: 'sin_cache'})}
  }
  const dims = ['batch', spec.kvHeads, 'total', spec.headDim]
  const slotOf = (slot: number): {key: string; value: string} => {
    const s = past[slot]
    if (s === undefined) {
      throw new OnnxError(`no cache slot ${slot}`, 'DLEC_LAYER_RANGE')
    }
    return s
  }
  return {
    shape3: (width) => shape(`w${width}`, [width]),
    shape4: (heads) => shape(`h${heads}`, [heads, spec.headDim]),
    seqlensK,
    totalLength,
    rope,
    pastKey: (slot) => slotOf(slot).key,
    pastValue: (slot) => slotOf(slot).value,
    present(slot, key, value) {
      g.output(key, presentKey(slot), 'float', dims)
      g.output(value, presentValue(slot), 'float', dims)
    },
  }
}

function checkLayers(spec: DecoderSpec, layers: number[]): void {
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= spec.numLayers) {
      throw new OnnxError(`layer ${l} is out of range: the model has layers 0..${spec.numLayers - 1}`, 'DLEC_LAYER_RANGE')
    }
  }
}

interface ContextParams {
  g: GraphBuilder
  spec: DecoderSpec
  weights: GraphWeights
  /** [1]-shaped int64 values: rows and new tokens per row. */
  B: string
  T: string
  /** Positions of the tokens the graph computes [T], and of the keys they attend to. */
  positions: string
  keyPositions: string
  /** int64 [B, keys] (1 = token); undefined: every key is a token. */
  keyMask?: string
  cache?: BlockContext['cache']
  /** Offer `joinedLinear` (KV-cache graphs). */
  join?: boolean
}

/** The block context of one graph: weight lookup (initializers added once), shapes, rotary tables, masks. */
function blockContext(p: ContextParams): {ctx: BlockContext; initializer: (name: string) => string} {
  const {g, spec, weights, B, T} = p
  const c = (v: number[]): string => g.constInt64(v)
  const group = spec.heads / spec.kvHeads
  const shapes = {
    bt: g.op('Concat', [B, T], {axis: 0}, {name: 'shape_bt'}),
    bth: g.op('Concat', [B, T, c([spec.hidden])], {axis: 0}, {name: 'shape_bth'}),
    q5: g.op('Concat', [B, T, c([spec.kvHeads, group, spec.headDim])], {axis: 0}, {name: 'shape_q5'}),
    kv5: g.op('Concat', [B, T, c([spec.kvHeads, 1, spec.headDim])], {axis: 0}, {name: 'shape_kv5'}),
  }
  const added = new Set<string>()
  const initializer = (name: string): string => {
    if (!added.has(name)) {
      const t = weights.tensor(name)
      g.initializer(name, 'float', t.dims, t.data)
      added.add(name)
    }
    return name
  }
  // Quantized projections get their MatMulNBits initializers in linear(); everything else is float.
  const find = (role: WeightRole, layer?: number): string | undefined => {
    const name = weights.find(role, layer)
    if (name === undefined) {
      return undefined
    }
    return weights.quantized?.(name) !== undefined || weights.w8?.(name) !== undefined ? name : initializer(name)
  }
  const masks = new Map<string, string>()
  const ctx: BlockContext = {
    g,
    spec,
    weight: find,
    need(role, layer) {
      const name = find(role, layer)
      if (name === undefined) {
        const where = layer === undefined ? '' : ` of layer ${layer}`
        throw new OnnxError(`the ${spec.blockKind} graph needs the ${role} weight${where}, which the checkpoint lacks`, 'DLEC_WEIGHT_MISSING')
      }
      return name
    },
    linear: (x, weight, bias, name) => linear(g, spec, weights, initializer, x, weight, bias, name),
    joinedLinear: p.join === true ? (x, ws, bs, name) => joinedLinear(g, spec, weights, x, ws, bs, name) : undefined,
    shapes,
    rope: spec.rope ? ropeTables(g, p.positions, spec.rope.invFreq) : undefined,
    mask(window) {
      const key = String(window)
      const known = masks.get(key)
      if (known !== undefined) {
        return known
      }
      const made = attentionMask(g, p.positions, p.keyPositions, p.keyMask, window)
      masks.set(key, made)
      return made
    },
    cache: p.cache,
  }
  return {ctx, initializer}
}

/** Token (and learned position) embeddings of ids [B, T] as [N, H]. */
function embed(ctx: BlockContext, weights: GraphWeights, ids: string, positions: string): string {
  const {g, spec} = ctx
  let x = embedTokens(g, weights, ctx.need('embed'), ids)
  const pos = ctx.weight('pos_embed')
  if (pos !== undefined) {
    x = g.op('Add', [x, g.op('Gather', [pos, positions], {axis: 0})], {}, {name: 'embed_pos'})
  }
  if (spec.embedScale !== undefined) {
    x = g.op('Mul', [x, g.scalar(spec.embedScale)], {}, {name: 'embed_scaled'})
  }
  return g.shaped(g.op('Reshape', [x, g.constInt64([-1, spec.hidden])], {}, {name: 'h0'}), 'float', ['rows', spec.hidden])
}

/** Final norm, LM head (tied to the embeddings when absent) and final soft-capping of x [N, H]. */
function lmHead(ctx: BlockContext, weights: GraphWeights, initializer: (name: string) => string, x: string): {final: string; logits: string} {
  const {g, spec} = ctx
  const final = norm(ctx, x, ctx.need('final_norm'), ctx.weight('final_norm_bias'), 'final_norm')
  const head = ctx.weight('lm_head') ?? ctx.need('embed')
  let logits = linear(g, {...spec, blockKind: 'llama'}, weights, initializer, final, head, ctx.weight('lm_head_bias'), 'lm_head')
  if (spec.finalSoftcap !== undefined) {
    const cap = g.scalar(spec.finalSoftcap)
    logits = g.op('Mul', [g.op('Tanh', [g.op('Div', [logits, cap])]), cap], {}, {name: 'logits_capped'})
  }
  return {final, logits}
}

/** Token embeddings: a float Gather, or GatherBlockQuantized on the block-quantized table. */
function embedTokens(g: GraphBuilder, weights: GraphWeights, table: string, ids: string): string {
  const q = weights.quantized?.(table)
  if (q === undefined) {
    return g.op('Gather', [table, ids], {axis: 0}, {name: 'embed'})
  }
  // The same bytes as the MatMulNBits initializers, viewed as [V, H * bits / 8] and [V, H / block].
  const data = g.initializer(`${table}.gq`, 'uint8', [q.n, (q.k * q.bits) / 8], q.weight.data)
  const scales = g.initializer(`${table}.gscales`, 'float', [q.n, q.k / q.blockSize], q.scales.data)
  return g.op('GatherBlockQuantized', [data, ids, scales], {gather_axis: 0, quantize_axis: 1, block_size: q.blockSize, bits: q.bits}, {name: 'embed', domain: 'com.microsoft'})
}

function linear(
  g: GraphBuilder,
  spec: DecoderSpec,
  weights: GraphWeights,
  initializer: (name: string) => string,
  x: string,
  weight: string,
  bias: string | undefined,
  name: string,
): string {
  const w8 = weights.w8?.(weight)
  if (w8 !== undefined) {
    // W8A8: the activations are quantized per tensor to uint8 at run time and multiplied with the
    // signed int8 weights by ONNX Runtime's u8 x s8 kernels (VNNI / AMX where the CPU has them).
    const w = g.hasInitializer(`${weight}.w8`) ? `${weight}.w8` : g.initializer(`${weight}.w8`, 'int8', w8.weight.dims, w8.weight.data)
    const s = g.hasInitializer(`${weight}.w8scales`) ? `${weight}.w8scales` : g.initializer(`${weight}.w8scales`, 'float', w8.scales.dims, w8.scales.data)
    const inputs = bias === undefined ? [x, w, s] : [x, w, s, '', bias]
    return g.op('DynamicQuantizeMatMul', inputs, {}, {name, domain: 'com.microsoft'})
  }
  const q = BLOCK_KINDS[spec.blockKind].conv1d ? undefined : weights.quantized?.(weight)
  if (q !== undefined) {
    const w = g.hasInitializer(`${weight}.q`) ? `${weight}.q` : g.initializer(`${weight}.q`, 'uint8', q.weight.dims, q.weight.data)
    const s = g.hasInitializer(`${weight}.scales`) ? `${weight}.scales` : g.initializer(`${weight}.scales`, 'float', q.scales.dims, q.scales.data)
    const inputs = bias === undefined ? [x, w, s] : [x, w, s, '', '', bias]
    return g.op('MatMulNBits', inputs, {K: q.k, N: q.n, bits: q.bits, block_size: q.blockSize, accuracy_level: 0}, {name, domain: 'com.microsoft'})
  }
  initializer(weight)
  const transB = BLOCK_KINDS[spec.blockKind].conv1d ? 0 : 1
  return g.op('Gemm', bias === undefined ? [x, weight] : [x, weight, bias], {transB}, {name})
}

/** x [N, in] times float weights [out_i, in] joined along the outputs (see BlockContext.joinedLinear). */
function joinedLinear(g: GraphBuilder, spec: DecoderSpec, weights: GraphWeights, x: string, ws: string[], bs: (string | undefined)[], name: string): string | undefined {
  const stored = ws.some((w) => weights.quantized?.(w) !== undefined || weights.w8?.(w) !== undefined)
  const someBias = bs.some((b) => b !== undefined)
  if (BLOCK_KINDS[spec.blockKind].conv1d || stored || (someBias && bs.some((b) => b === undefined))) {
    return undefined
  }
  const weight = g.op('Concat', ws, {axis: 0}, {name: `${name}_w`})
  const bias = someBias ? g.op('Concat', bs as string[], {axis: 0}, {name: `${name}_b`}) : undefined
  return g.op('Gemm', bias === undefined ? [x, weight] : [x, weight, bias], {transB: 1}, {name})
}

function ropeTables(g: GraphBuilder, positions: string, invFreq: number[]): {cos: string; sin: string} {
  const pos = g.op('Unsqueeze', [g.op('Cast', [positions], {to: 1}), g.constInt64([1])], {}, {name: 'pos_f'})
  const freqs = g.op('Mul', [pos, g.constFloat(invFreq)], {}, {name: 'rope_freqs'})
  const emb = g.op('Concat', [freqs, freqs], {axis: -1}, {name: 'rope_emb'})
  return {cos: g.op('Cos', [emb], {}, {name: 'rope_cos'}), sin: g.op('Sin', [emb], {}, {name: 'rope_sin'})}
}

/**
 * Additive mask, 0 where key <= query (and within the window) and the key is a token:
 * [B, 1, 1, T, K] with a key mask, [T, K] without (queries at `positions`, keys at `keyPositions`).
 */
function attentionMask(g: GraphBuilder, positions: string, keyPositions: string, keyMask: string | undefined, window: number | undefined): string {
  const q = g.op('Unsqueeze', [positions, g.constInt64([1])])
  const k = g.op('Unsqueeze', [keyPositions, g.constInt64([0])])
  let allowed = g.op('LessOrEqual', [k, q], {}, {name: 'causal'})
  if (window !== undefined) {
    const inWindow = g.op('Greater', [k, g.op('Sub', [q, g.constInt64([window], [])])])
    allowed = g.op('And', [allowed, inWindow], {}, {name: `causal_w${window}`})
  }
  if (keyMask !== undefined) {
    const keys = g.op('Cast', [g.op('Unsqueeze', [keyMask, g.constInt64([1, 2, 3])])], {to: 9}, {name: 'key_mask'})
    allowed = g.op('And', [allowed, keys])
  }
  return g.op('Where', [allowed, g.scalar(0), g.scalar(-3.4028234663852886e38)], {}, {name: window === undefined ? 'mask_full' : `mask_w${window}`})
}
