import {ModelError} from '../errors.js'

/**
 * What a tensor is for. The graph builder and the identity-copy planner look weights up by role, so
 * they never hard-code a family's tensor names.
 */
export const WEIGHT_ROLES = [
  'embed',
  'pos_embed',
  'final_norm',
  'final_norm_bias',
  'lm_head',
  'lm_head_bias',
  'attn_norm',
  'attn_norm_bias',
  'mlp_norm',
  'mlp_norm_bias',
  'post_attn_norm',
  'post_mlp_norm',
  'q_proj',
  'q_bias',
  'k_proj',
  'k_bias',
  'v_proj',
  'v_bias',
  'qkv_proj',
  'qkv_bias',
  'o_proj',
  'o_bias',
  'q_norm',
  'k_norm',
  'gate_proj',
  'up_proj',
  'gate_up_proj',
  'up_bias',
  'down_proj',
  'down_bias',
] as const
export type WeightRole = (typeof WEIGHT_ROLES)[number]

/** Block kinds the graph builder knows; a new family needs code only when it brings a new kind. */
import {BLOCK_KIND_NAMES, type BlockKind} from './block-kinds.js'

export {BLOCK_KINDS, BLOCK_KIND_NAMES, type BlockKind} from './block-kinds.js'

export interface WeightTemplate {
  /** Tensor name template: `${layer_index}`, `${layer_index+1}`, `${num_layers}`, ... (mergekit syntax). */
  name: string
  role: WeightRole
  /** Skipped when neither the name nor an alias is in the checkpoint (mergekit's `optional`). */
  optional?: boolean
  /** Other names the same tensor may be stored under. */
  aliases?: string[]
  /** Names to load from when this one is absent (tied embeddings). */
  tiedNames?: string[]
  /** Token-embedding shaped (rows = vocabulary). */
  isEmbed?: boolean
}

export interface ArchitectureDefinition {
  /** File stem and display name, e.g. `llama`. */
  name: string
  /** `config.json` `architectures[0]` values this definition claims. */
  architectures: string[]
  /** `config.json` `model_type` values; used when `architectures` is absent or ambiguous. */
  modelTypes: string[]
  /** Dotted config key holding the number of decoder layers. */
  numLayersKey: string
  /** Config keys whose value is a per-layer list (remapped when layers are duplicated). */
  perLayerConfigKeys: string[]
  /** Config key saying the LM head is tied to the embeddings, and its default. */
  tiedEmbeddingsKey?: string
  tiedEmbeddingsDefault: boolean
  blockKind: BlockKind
  /** Substring filters of the output projections: `scale: 0` on these makes a block an identity. */
  identityFilters: string[]
  preWeights: WeightTemplate[]
  layerWeights: WeightTemplate[]
  postWeights: WeightTemplate[]
}

/** Validates parsed JSON as an ArchitectureDefinition; throws naming the file and field. */
export function validateArchitecture(value: unknown, source: string): ArchitectureDefinition {
  const fail = (field: string, why: string): never => {
    throw new ModelError(`${source}: ${field} ${why}`, 'DLEC_ARCH_INVALID')
  }
  if (!isObject(value)) {
    return fail('(root)', 'must be an object')
  }
  const str = (field: string): string => {
    const v = value[field]
    return typeof v === 'string' && v.length > 0 ? v : fail(field, 'must be a non-empty string')
  }
  const strList = (field: string, optional = false): string[] => {
    const v = value[field]
    if (v === undefined && optional) {
      return []
    }
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : fail(field, 'must be a list of strings')
  }
  const weights = (field: string): WeightTemplate[] => {
    const v = value[field]
    if (!Array.isArray(v)) {
      return fail(field, 'must be a list')
    }
    return v.map((w, i) => {
      const at = `${field}[${i}]`
      if (!isObject(w) || typeof w.name !== 'string' || w.name.length === 0) {
        return fail(at, 'must have a non-empty "name"')
      }
      if (typeof w.role !== 'string' || !(WEIGHT_ROLES as readonly string[]).includes(w.role)) {
        return fail(`${at}.role`, `must be one of ${WEIGHT_ROLES.join(', ')}`)
      }
      for (const key of ['aliases', 'tiedNames'] as const) {
        if (w[key] !== undefined && !(Array.isArray(w[key]) && (w[key] as unknown[]).every((x) => typeof x === 'string'))) {
          fail(`${at}.${key}`, 'must be a list of strings')
        }
      }
      for (const key of ['optional', 'isEmbed'] as const) {
        if (w[key] !== undefined && typeof w[key] !== 'boolean') {
          fail(`${at}.${key}`, 'must be a boolean')
        }
      }
      return w as unknown as WeightTemplate
    })
  }
  const blockKind = str('blockKind')
  if (!(BLOCK_KIND_NAMES as readonly string[]).includes(blockKind)) {
    fail('blockKind', `must be one of ${BLOCK_KIND_NAMES.join(', ')}`)
  }
  const def: ArchitectureDefinition = {
    name: str('name'),
    architectures: strList('architectures'),
    modelTypes: strList('modelTypes'),
    numLayersKey: str('numLayersKey'),
    perLayerConfigKeys: strList('perLayerConfigKeys', true),
    tiedEmbeddingsKey: typeof value.tiedEmbeddingsKey === 'string' ? value.tiedEmbeddingsKey : undefined,
    tiedEmbeddingsDefault: value.tiedEmbeddingsDefault === true,
    blockKind: blockKind as BlockKind,
    identityFilters: strList('identityFilters'),
    preWeights: weights('preWeights'),
    layerWeights: weights('layerWeights'),
    postWeights: weights('postWeights'),
  }
  if (def.architectures.length === 0 && def.modelTypes.length === 0) {
    fail('architectures', 'and modelTypes cannot both be empty')
  }
  if (!def.layerWeights.every((w) => w.name.includes('${layer_index'))) {
    fail('layerWeights', 'entries must contain ${layer_index}')
  }
  return def
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
