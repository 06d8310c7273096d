import {getConfigValue, numLayersOf, type ModelConfigJson} from '../architectures/registry.js'
import {matchCheckpoint} from '../architectures/match-checkpoint.js'
import type {ArchitectureDefinition} from '../architectures/schema.js'
import {ModelError} from '../errors.js'

/**
 * Parameter counts of a model split the way an expansion changes them: the weights before the
 * decoder (embeddings), each decoder layer, and the weights after it (final norm, LM head). Counts
 * follow transformers' `num_parameters()`: an LM head tied to the embeddings is one tensor, counted
 * once. Pure: the shapes come from the safetensors headers.
 */
export interface ParameterBreakdown {
  pre: number
  post: number
  /** Parameters of original layer i. */
  perLayer: number[]
  /** The LM head shares the embedding matrix (not counted twice). */
  tiedEmbeddings: boolean
}

export function parameterBreakdown(params: {
  arch: ArchitectureDefinition
  config: ModelConfigJson
  /** Tensor name -> shape, for every tensor of the checkpoint (safetensors headers). */
  shapes: ReadonlyMap<string, {readonly shape: readonly number[]}>
  source?: string
}): ParameterBreakdown {
  const {arch, config, shapes} = params
  const source = params.source ?? 'model'
  const numLayers = numLayersOf(config, arch)
  const match = matchCheckpoint({arch, numLayers, names: shapes.keys()})
  if (match.missing.length > 0) {
    throw new ModelError(`${source}: tensor ${match.missing[0]} is missing (${match.missing.length} missing in all)`, 'DLEC_MODEL_TENSOR_MISSING')
  }
  const tiedValue = arch.tiedEmbeddingsKey === undefined ? undefined : getConfigValue(config, arch.tiedEmbeddingsKey)
  const tiedEmbeddings = typeof tiedValue === 'boolean' ? tiedValue : arch.tiedEmbeddingsDefault
  const out: ParameterBreakdown = {pre: 0, post: 0, perLayer: new Array<number>(numLayers).fill(0), tiedEmbeddings}
  for (const t of match.tensors) {
    if (t.stored === undefined) {
      continue
    }
    if (t.role === 'lm_head' && tiedEmbeddings) {
      continue
    }
    const shape = shapes.get(t.stored)?.shape ?? []
    const n = shape.reduce((a, b) => a * b, 1)
    if (t.section === 'pre') {
      out.pre += n
    } else if (t.section === 'post') {
      out.post += n
    } else if (t.layer !== undefined) {
      out.perLayer[t.layer] = (out.perLayer[t.layer] ?? 0) + n
    }
  }
  return out
}

/** Parameters of a model that runs `layers` (original layer ids, repeats allowed). */
export function sequenceParameterCount(breakdown: ParameterBreakdown, layers: readonly number[]): number {
  let total = breakdown.pre + breakdown.post
  for (const l of layers) {
    const n = breakdown.perLayer[l]
    if (n === undefined) {
      throw new ModelError(`layer ${l} is outside the model (layers 0..${breakdown.perLayer.length - 1})`, 'DLEC_LAYER_RANGE')
    }
    total += n
  }
  return total
}

/** Parameters of the original model. */
export function baseParameterCount(breakdown: ParameterBreakdown): number {
  return sequenceParameterCount(
    breakdown,
    breakdown.perLayer.map((_, i) => i),
  )
}
