import {BLOCK_KINDS} from '../architectures/block-kinds.js'
import {ModelError} from '../errors.js'
import {getConfigValue, numLayersOf, type ModelConfigJson} from '../architectures/registry.js'
import type {ArchitectureDefinition, BlockKind} from '../architectures/schema.js'
import {ropeInvFreq, type RopeParams} from './blocks/rope-frequencies.js'

/**
 * The numbers a decoder graph needs, read once from config.json (transformers 4.x and 5.x key
 * spellings) for one architecture's block kind. Pure.
 */
export interface DecoderSpec {
  blockKind: BlockKind
  hidden: number
  numLayers: number
  heads: number
  kvHeads: number
  headDim: number
  vocab: number
  maxPositions: number
  norm: 'rms' | 'layer'
  normEps: number
  /** Gemma stores RMSNorm weights as w - 1. */
  normOffset: number
  /** Gemma multiplies the embeddings by sqrt(hidden). */
  embedScale?: number
  /** Rotary frequencies (length rotaryDim / 2), absent for learned positions (gpt2). */
  rope?: {rotaryDim: number; invFreq: number[]}
  attnScale: number
  attnSoftcap?: number
  finalSoftcap?: number
  /** Per original layer index: the sliding window, or undefined for full attention. */
  slidingWindow: (number | undefined)[]
  activation: 'silu' | 'gelu_tanh' | 'gelu'
}

/** The largest hidden size, head count, head size or vocabulary accepted from config.json (real ones are below 2^20). */
export const MAX_DIMENSION = 1 << 24
/** Head size limit: a graph builds per-head tables of this length. */
const MAX_HEAD_DIM = 1 << 16

export function decoderSpec(config: ModelConfigJson, arch: ArchitectureDefinition, source = 'config.json'): DecoderSpec {
  const num = (keys: string[], fallback?: number): number => {
    for (const k of keys) {
      const v = getConfigValue(config, k)
      if (typeof v === 'number') {
        return v
      }
    }
    if (fallback !== undefined) {
      return fallback
    }
    throw new ModelError(`${source}: missing ${keys.join(' / ')} (needed by the ${arch.blockKind} graph)`, 'DLEC_CONFIG_MISSING')
  }
  /** A size: a positive integer up to MAX_DIMENSION (a hostile 0 or 1e12 never reaches a graph). */
  const size = (keys: string[], fallback?: number): number => {
    const v = num(keys, fallback)
    if (!Number.isInteger(v) || v < 1 || v > MAX_DIMENSION) {
      throw new ModelError(`${source}: ${keys[0]} must be a positive integer up to ${MAX_DIMENSION} (got ${v})`, 'DLEC_CONFIG_INVALID')
    }
    return v
  }
  const kind = arch.blockKind
  const hidden = size(['hidden_size', 'n_embd'])
  const numLayers = numLayersOf(config, arch, source)
  const heads = size(['num_attention_heads', 'n_head'])
  const kvHeads = size(['num_key_value_heads'], heads)
  const headDim = size(['head_dim'], Number.isInteger(hidden / heads) ? hidden / heads : undefined)
  if (headDim > MAX_HEAD_DIM || heads > hidden * 64) {
    throw new ModelError(`${source}: head_dim ${headDim} with ${heads} heads is beyond dlec's limits`, 'DLEC_CONFIG_INVALID')
  }
  if (!Number.isInteger(headDim) || heads % kvHeads !== 0) {
    throw new ModelError(`${source}: head_dim ${headDim} / ${heads} heads / ${kvHeads} kv heads do not divide evenly`, 'DLEC_CONFIG_INVALID')
  }
  const behaviour = BLOCK_KINDS[kind]
  const ropeParams = readRope(config)
  if (!(ropeParams.partialRotaryFactor > 0 && ropeParams.partialRotaryFactor <= 1)) {
    throw new ModelError(`${source}: partial_rotary_factor must be in (0, 1] (got ${ropeParams.partialRotaryFactor})`, 'DLEC_CONFIG_INVALID')
  }
  if (!(Number.isFinite(ropeParams.theta) && ropeParams.theta > 0)) {
    throw new ModelError(`${source}: rope_theta must be a positive number (got ${ropeParams.theta})`, 'DLEC_CONFIG_INVALID')
  }
  const rotaryDim = Math.floor(headDim * ropeParams.partialRotaryFactor)
  const act = String(getConfigValue(config, 'hidden_activation') ?? getConfigValue(config, 'hidden_act') ?? getConfigValue(config, 'activation_function') ?? 'silu')
  const activation = activationOf(act, source)
  const isGemma = behaviour.gemmaScaling
  const queryPre = behaviour.softcaps ? num(['query_pre_attn_scalar'], headDim) : headDim
  const softcap = (key: string): number | undefined => {
    const v = getConfigValue(config, key)
    return behaviour.softcaps && typeof v === 'number' ? v : undefined
  }
  return {
    blockKind: kind,
    hidden,
    numLayers,
    heads,
    kvHeads,
    headDim,
    vocab: size(['vocab_size']),
    maxPositions: size(['max_position_embeddings', 'n_positions'], MAX_DIMENSION),
    norm: behaviour.norm,
    normEps: num(['rms_norm_eps', 'layer_norm_eps', 'layer_norm_epsilon'], 1e-5),
    normOffset: isGemma ? 1 : 0,
    embedScale: isGemma ? Math.fround(Math.sqrt(hidden)) : undefined,
    rope: !behaviour.rotary ? undefined : {rotaryDim, invFreq: ropeInvFreq(ropeParams, rotaryDim, source)},
    attnScale: 1 / Math.sqrt(queryPre),
    attnSoftcap: softcap('attn_logit_softcapping'),
    finalSoftcap: softcap('final_logit_softcapping'),
    slidingWindow: slidingWindows(config, numLayers),
    activation,
  }
}

function readRope(config: ModelConfigJson): RopeParams {
  const params = {
    ...(isObject(config.rope_scaling) ? config.rope_scaling : {}),
    ...(isObject(config.rope_parameters) ? config.rope_parameters : {}),
  }
  const n = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined)
  return {
    theta: n(params.rope_theta) ?? n(config.rope_theta) ?? 10000,
    type: String(params.rope_type ?? params.type ?? 'default'),
    factor: n(params.factor),
    lowFreqFactor: n(params.low_freq_factor),
    highFreqFactor: n(params.high_freq_factor),
    originalMaxPositions: n(params.original_max_position_embeddings),
    partialRotaryFactor: n(params.partial_rotary_factor) ?? n(config.partial_rotary_factor) ?? 1,
  }
}

function slidingWindows(config: ModelConfigJson, numLayers: number): (number | undefined)[] {
  const window = typeof config.sliding_window === 'number' ? config.sliding_window : undefined
  const types = Array.isArray(config.layer_types) ? (config.layer_types as unknown[]) : undefined
  return Array.from({length: numLayers}, (_, i) => {
    if (window === undefined || config.use_sliding_window === false) {
      return undefined
    }
    if (types) {
      return types[i] === 'sliding_attention' ? window : undefined
    }
    return window
  })
}

function activationOf(act: string, source: string): DecoderSpec['activation'] {
  switch (act) {
    case 'silu':
    case 'swish': {
      return 'silu'
    }
    case 'gelu_pytorch_tanh':
    case 'gelu_new':
    case 'gelu_fast': {
      return 'gelu_tanh'
    }
    case 'gelu': {
      return 'gelu'
    }
    default: {
      throw new ModelError(`${source}: activation ${act} is not supported by dlec's graph builder (supported: silu, gelu, gelu_new, gelu_pytorch_tanh)`, 'DLEC_ARCH_UNSUPPORTED')
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
