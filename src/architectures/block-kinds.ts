/**
 * The decoder block kinds and what each one does differently, as data: the graph builder
 * (onnx/blocks/decoder-block.ts) and the weight handling read these flags instead of testing kind
 * names. A new kind is a row here plus, if it needs a new shape of computation, a flag.
 */
export interface BlockKindBehaviour {
  /** Attention and MLP both read one norm of the input and are added together (phi-2). */
  parallel: boolean
  /** A norm on each branch's output before it joins the residual stream (gemma2). */
  postBranchNorms: boolean
  /** Projections are stored as Conv1D [in, out] rather than Linear [out, in] (gpt2): not block-quantized. */
  conv1d: boolean
  /** RMSNorm or LayerNorm (with bias). */
  norm: 'rms' | 'layer'
  /** Gemma conventions: norms scale by (1 + w), embeddings are multiplied by sqrt(hidden). */
  gemmaScaling: boolean
  /** Rotary position embeddings (false: learned absolute positions, gpt2). */
  rotary: boolean
  /** Logit soft-capping and `query_pre_attn_scalar` are read from config.json (gemma2). */
  softcaps: boolean
}

export const BLOCK_KINDS = {
  llama: {parallel: false, postBranchNorms: false, conv1d: false, norm: 'rms', gemmaScaling: false, rotary: true, softcaps: false},
  gemma: {parallel: false, postBranchNorms: false, conv1d: false, norm: 'rms', gemmaScaling: true, rotary: true, softcaps: false},
  gemma2: {parallel: false, postBranchNorms: true, conv1d: false, norm: 'rms', gemmaScaling: true, rotary: true, softcaps: true},
  phi: {parallel: true, postBranchNorms: false, conv1d: false, norm: 'layer', gemmaScaling: false, rotary: true, softcaps: false},
  phi3: {parallel: false, postBranchNorms: false, conv1d: false, norm: 'rms', gemmaScaling: false, rotary: true, softcaps: false},
  gpt2: {parallel: false, postBranchNorms: false, conv1d: true, norm: 'layer', gemmaScaling: false, rotary: false, softcaps: false},
} as const satisfies Record<string, BlockKindBehaviour>

export type BlockKind = keyof typeof BLOCK_KINDS

export const BLOCK_KIND_NAMES = Object.keys(BLOCK_KINDS) as BlockKind[]
