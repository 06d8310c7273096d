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
  /** Additive attention mask [B, 1, 1, T, T] for a sliding window (undefined: full causal). */
  mask(window: number | undefined): string
}
