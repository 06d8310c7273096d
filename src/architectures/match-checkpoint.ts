import type {ArchitectureDefinition, WeightRole} from './schema.js'
import {substituteTemplate} from './template.js'

/** One tensor an architecture expects, with the stored name it was found under (if any). */
export interface ExpectedTensor {
  /** Canonical (template) name, as mergekit writes it. */
  name: string
  role: WeightRole
  /** Decoder layer index, absent for pre/post weights. */
  layer?: number
  section: 'pre' | 'layer' | 'post'
  optional: boolean
  /** The name under which the checkpoint stores it: the name itself, an alias, or a tied name. */
  stored?: string
  /** True when `stored` is a tied name (e.g. lm_head loaded from the embeddings). */
  tied: boolean
}

export interface CheckpointMatch {
  /** Tensors the merge plans, in mergekit's planning order (pre, layer 0.., post); optional absent ones left out. */
  tensors: ExpectedTensor[]
  /** Required tensors found under no name. */
  missing: string[]
  /** Stored tensors no template claims (mergekit drops these silently). */
  unclaimed: string[]
}

/**
 * Matches an architecture's templates against the tensor names of a checkpoint the way mergekit's
 * planner does: name, then aliases; an optional weight whose name and aliases are all absent is
 * skipped (tied names are not consulted for that decision); a required one falls back to its tied
 * names. Pure.
 */
export function matchCheckpoint(params: {
  arch: ArchitectureDefinition
  numLayers: number
  names: Iterable<string>
}): CheckpointMatch {
  const {arch, numLayers} = params
  const stored = new Set(params.names)
  const claimed = new Set<string>()
  const tensors: ExpectedTensor[] = []
  const missing: string[] = []
  const sub = (template: string, layer?: number): string =>
    substituteTemplate(template, {layerIndex: layer, numLayers})
  const visit = (section: ExpectedTensor['section'], templates: ArchitectureDefinition['preWeights'], layer?: number): void => {
    for (const w of templates) {
      const name = sub(w.name, layer)
      const direct = [name, ...(w.aliases ?? []).map((a) => sub(a, layer))].find((n) => stored.has(n))
      const optional = w.optional === true
      if (direct === undefined && optional) {
        continue
      }
      const tiedName = direct === undefined ? (w.tiedNames ?? []).map((t) => sub(t, layer)).find((n) => stored.has(n)) : undefined
      const found = direct ?? tiedName
      if (found === undefined) {
        missing.push(name)
      } else {
        claimed.add(found)
      }
      tensors.push({name, role: w.role, layer, section, optional, stored: found, tied: tiedName !== undefined})
    }
  }
  visit('pre', arch.preWeights)
  for (let layer = 0; layer < numLayers; layer++) {
    visit('layer', arch.layerWeights, layer)
  }
  visit('post', arch.postWeights)
  const unclaimed = [...stored].filter((n) => !claimed.has(n)).sort()
  return {tensors, missing, unclaimed}
}

/**
 * A stored tensor of layer `numLayers` (one past the configured depth), if any: config.json then
 * undercounts the checkpoint's layers, and using its count would silently drop the rest.
 */
export function tensorBeyondDepth(arch: ArchitectureDefinition, numLayers: number, has: (name: string) => boolean): string | undefined {
  return arch.layerWeights.map((w) => substituteTemplate(w.name, {layerIndex: numLayers, numLayers})).find((n) => has(n))
}
