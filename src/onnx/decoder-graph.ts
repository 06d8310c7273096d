import type {WeightRole} from '../architectures/schema.js'
import {OnnxError} from '../errors.js'
import {GraphBuilder} from './graph-builder.js'
import type {DecoderSpec} from './decoder-spec.js'
import type {BlockContext} from './blocks/block-context.js'
import {decoderBlock} from './blocks/decoder-block.js'
import {norm} from './blocks/norm.js'
import {graphOutputs, type GraphOutputRequest} from './graph-outputs.js'
import type {ExternalRef} from './proto.js'

/** How the graph reaches the weights: stored names by role, and where each tensor's bytes are. */
export interface GraphWeights {
  /** Stored tensor name of a role (layer undefined for pre/post weights); undefined when absent. */
  find(role: WeightRole, layer?: number): string | undefined
  /** The tensor as a float32 initializer: shape and location of its bytes. */
  tensor(name: string): {dims: number[]; data: ExternalRef}
  /** 4/8-bit MatMulNBits form of a [out, in] projection, when the weights are quantized. */
  quantized?(name: string): QuantizedWeight | undefined
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

/** Factors on a layer copy's attention and MLP outputs (mergekit `scale` on its output projections). */
export interface BranchScale {
  attn?: number
  mlp?: number
}

export interface DecoderGraphParams {
  spec: DecoderSpec
  weights: GraphWeights
  /** The layer sequence, by original index, e.g. [0, 1, 2, 2, 3]. */
  layers: number[]
  /** Per position of `layers`: output scales of that copy (undefined: unscaled). */
  scales?: (BranchScale | undefined)[]
  /** `ids`: input_ids [B, T]; `hidden`: a hidden state [B, T, H] entering layers[0]. */
  start: 'ids' | 'hidden'
  outputs: GraphOutputRequest
}

/**
 * Builds the ONNX graph of a decoder running `layers` in order. Inputs: `input_ids` (int64 [B, T])
 * or `hidden` (float [B, T, H]), and `attention_mask` (int64 [B, T], 1 = token, right padding).
 * A repeated layer references the same initializers. Outputs are what `outputs` asks for (see
 * graph-outputs.ts); layers after the last one any output needs are left out.
 */
export function buildDecoderGraph(params: DecoderGraphParams): Uint8Array {
  const {spec, weights, layers, start, outputs} = params
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= spec.numLayers) {
      throw new OnnxError(`layer ${l} is out of range: the model has layers 0..${spec.numLayers - 1}`, 'DLEC_LAYER_RANGE')
    }
  }
  const g = new GraphBuilder('dlec_decoder')
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq'])
  const ids = start === 'ids' ? g.input('input_ids', 'int64', ['batch', 'seq']) : undefined
  const hiddenIn = start === 'hidden' ? g.input('hidden', 'float', ['batch', 'seq', spec.hidden]) : undefined
  const c = (v: number[]): string => g.constInt64(v)
  const B = g.op('Shape', [mask], {start: 0, end: 1}, {name: 'dim_b'})
  const T = g.op('Shape', [mask], {start: 1, end: 2}, {name: 'dim_t'})
  const group = spec.heads / spec.kvHeads
  const shapes = {
    bt: g.op('Concat', [B, T], {axis: 0}, {name: 'shape_bt'}),
    bth: g.op('Concat', [B, T, c([spec.hidden])], {axis: 0}, {name: 'shape_bth'}),
    q5: g.op('Concat', [B, T, c([spec.kvHeads, group, spec.headDim])], {axis: 0}, {name: 'shape_q5'}),
    kv5: g.op('Concat', [B, T, c([spec.kvHeads, 1, spec.headDim])], {axis: 0}, {name: 'shape_kv5'}),
  }
  const positions = g.op('Range', [g.constInt64([0], []), g.op('Squeeze', [T]), g.constInt64([1], [])], {}, {name: 'positions'})
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
    return weights.quantized?.(name) !== undefined ? name : initializer(name)
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
    shapes,
    rope: spec.rope ? ropeTables(g, positions, spec.rope.invFreq) : undefined,
    mask(window) {
      const key = String(window)
      const known = masks.get(key)
      if (known !== undefined) {
        return known
      }
      const made = attentionMask(g, mask, positions, window)
      masks.set(key, made)
      return made
    },
  }
  let x: string
  if (ids !== undefined) {
    x = embedTokens(g, weights, ctx.need('embed'), ids)
    const pos = ctx.weight('pos_embed')
    if (pos !== undefined) {
      x = g.op('Add', [x, g.op('Gather', [pos, positions], {axis: 0})], {}, {name: 'embed_pos'})
    }
    if (spec.embedScale !== undefined) {
      x = g.op('Mul', [x, g.scalar(spec.embedScale)], {}, {name: 'embed_scaled'})
    }
    x = g.op('Reshape', [x, c([-1, spec.hidden])], {}, {name: 'h0'})
  } else {
    x = g.op('Reshape', [hiddenIn as string, c([-1, spec.hidden])], {}, {name: 'h0'})
  }
  const plan = graphOutputs.plan(outputs, layers.length)
  const states: string[] = [x]
  for (let i = 0; i < plan.runLayers; i++) {
    x = decoderBlock(ctx, x, layers[i] as number, params.scales?.[i])
    states.push(x)
  }
  const head = (): {final: string; logits: string} => {
    const final = norm(ctx, x, ctx.need('final_norm'), ctx.weight('final_norm_bias'), 'final_norm')
    const lmHead = ctx.weight('lm_head') ?? ctx.need('embed')
    let logits = linear(g, {...spec, blockKind: 'llama'}, weights, initializer, final, lmHead, ctx.weight('lm_head_bias'), 'lm_head')
    if (spec.finalSoftcap !== undefined) {
      const cap = g.scalar(spec.finalSoftcap)
      logits = g.op('Mul', [g.op('Tanh', [g.op('Div', [logits, cap])]), cap], {}, {name: 'logits_capped'})
    }
    return {final, logits}
  }
  graphOutputs.emit({g, spec, mask, shapes, states, head, request: outputs})
  return g.toBytes()
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
  const q = spec.blockKind === 'gpt2' ? undefined : weights.quantized?.(weight)
  if (q !== undefined) {
    const w = g.hasInitializer(`${weight}.q`) ? `${weight}.q` : g.initializer(`${weight}.q`, 'uint8', q.weight.dims, q.weight.data)
    const s = g.hasInitializer(`${weight}.scales`) ? `${weight}.scales` : g.initializer(`${weight}.scales`, 'float', q.scales.dims, q.scales.data)
    const inputs = bias === undefined ? [x, w, s] : [x, w, s, '', '', bias]
    return g.op('MatMulNBits', inputs, {K: q.k, N: q.n, bits: q.bits, block_size: q.blockSize, accuracy_level: 0}, {name, domain: 'com.microsoft'})
  }
  initializer(weight)
  const transB = spec.blockKind === 'gpt2' ? 0 : 1
  return g.op('Gemm', bias === undefined ? [x, weight] : [x, weight, bias], {transB}, {name})
}

function ropeTables(g: GraphBuilder, positions: string, invFreq: number[]): {cos: string; sin: string} {
  const pos = g.op('Unsqueeze', [g.op('Cast', [positions], {to: 1}), g.constInt64([1])], {}, {name: 'pos_f'})
  const freqs = g.op('Mul', [pos, g.constFloat(invFreq)], {}, {name: 'rope_freqs'})
  const emb = g.op('Concat', [freqs, freqs], {axis: -1}, {name: 'rope_emb'})
  return {cos: g.op('Cos', [emb], {}, {name: 'rope_cos'}), sin: g.op('Sin', [emb], {}, {name: 'rope_sin'})}
}

/** Additive mask [B, 1, 1, T, T]: 0 where key <= query (and within the window) and the key is a token. */
function attentionMask(g: GraphBuilder, mask: string, positions: string, window: number | undefined): string {
  const q = g.op('Unsqueeze', [positions, g.constInt64([1])])
  const k = g.op('Unsqueeze', [positions, g.constInt64([0])])
  let allowed = g.op('LessOrEqual', [k, q], {}, {name: 'causal'})
  if (window !== undefined) {
    const inWindow = g.op('Greater', [k, g.op('Sub', [q, g.constInt64([window], [])])])
    allowed = g.op('And', [allowed, inWindow], {}, {name: `causal_w${window}`})
  }
  const keys = g.op('Cast', [g.op('Unsqueeze', [mask, g.constInt64([1, 2, 3])])], {to: 9}, {name: 'key_mask'})
  const both = g.op('And', [allowed, keys])
  return g.op('Where', [both, g.scalar(0), g.scalar(-3.4028234663852886e38)], {}, {name: window === undefined ? 'mask_full' : `mask_w${window}`})
}
