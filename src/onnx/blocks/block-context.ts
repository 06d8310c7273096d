import type {WeightRole} from '../../architectures/schema.js'
import type {GraphBuilder} from '../graph-builder.js'
import type {DecoderSpec} from '../decoder-spec.js'

/**
 * What every block builder shares while one decoder graph is built: the graph, the spec, weight
 * lookup by role, and values computed once per graph (shape tensors, rotary tables, masks).
 */
export interface BlockContext {
  g: GraphBuilder
  spec: DecoderSpec
  /** Initializer name of a layer's (or, with layer undefined, a global) weight; undefined when absent. */
  weight(role: WeightRole, layer?: number): string | undefined
  /** Like `weight`, but the weight must exist. */
  need(role: WeightRole, layer?: number): string
  /** A projection `x[N, in] -> [N, out]` of a stored weight (HF Linear [out,in], or Conv1D [in,out]). */
  linear(x: string, weight: string, bias: string | undefined, name: string): string
  /**
   * KV-cache graphs only: one projection of x by float weights ([out, in] each, with their biases)
   * joined along the outputs, as a Concat of the initializers that ONNX Runtime folds when it loads
   * the graph (one matrix product instead of several); undefined when a weight is quantized or
   * stored [in, out], or only some have biases (then they stay separate projections).
   */
  joinedLinear?(x: string, weights: string[], biases: (string | undefined)[], name: string): string | undefined
  /** Shape tensors: [B, T] and friends, built once. */
  shapes: {
    /** [B, T] as an int64 tensor (for reshaping per-token values). */
    bt: string
    /** [B, T, H]. */
    bth: string
    /** [B, T, nKv, group, headDim] (queries). */
    q5: string
    /** [B, T, nKv, 1, headDim] (keys, values). */
    kv5: string
  }
  /** cos and sin, [T, rotaryDim], float. */
  rope?: {cos: string; sin: string}
  /** Additive attention mask for a sliding window (undefined: full causal), broadcast over the scores. */
  mask(window: number | undefined): string
  /**
   * KV-cache graphs only: joins the past keys / values of cache slot `slot` (the layer's position
   * in the sequence) before the new ones [B, nKv, 1, T, d], exposes the result as that slot's
   * present outputs and returns it.
   */
  cache?(slot: number, k5: string, v5: string): {k5: string; v5: string}
  /** KV-cache graphs with fused attention (com.microsoft GroupQueryAttention): what the node needs. */
  fused?: FusedAttention
}

export interface FusedAttention {
  /** [B, T, width] and [B, T, heads, headDim] as int64 shape tensors. */
  shape3(width: number): string
  shape4(heads: number): string
  /** int32 [B]: total length - 1 of every row; int32 scalar: the total length (past + new). */
  seqlensK: string
  totalLength: string
  /** cos / sin [total, rotaryDim / 2] (absent without rotary). */
  rope?: {cos: string; sin: string}
  pastKey(slot: number): string
  pastValue(slot: number): string
  /** Exposes a slot's present keys / values as graph outputs. */
  present(slot: number, key: string, value: string): void
}

/** Factors on a layer copy's attention and MLP outputs (mergekit `scale` on its output projections). */
export interface BranchScale {
  attn?: number
  mlp?: number
}

/** A branch factor inside a graph: a constant, or a float [1] graph input fed at run time. */
export type BranchFactor = number | {input: string}

/** BranchScale as the block builder takes it: each factor a constant or a graph input. */
export interface BranchFactors {
  attn?: BranchFactor
  mlp?: BranchFactor
}
