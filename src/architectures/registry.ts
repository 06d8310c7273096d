import {readdirSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {join} from 'node:path'
import {ModelError} from '../errors.js'
import {validateArchitecture, type ArchitectureDefinition} from './schema.js'

/** The architecture data folder (`architectures/*.json` at the package root). */
export const ARCHITECTURES_DIR = fileURLToPath(new URL('../../architectures/', import.meta.url))

/**
 * The deepest model dlec accepts, from config.json or a YAML layer_range: no released checkpoint has
 * more than a few hundred decoder layers, and work per layer (layer maps, graphs, tables) is built
 * entry by entry, so a hostile 1e9 must be refused before anything is allocated.
 */
export const MAX_MODEL_LAYERS = 10_000

let cache: ArchitectureDefinition[] | undefined

/** Every architecture definition, loaded and validated once. A broken file fails loudly. */
export function listArchitectures(dir: string = ARCHITECTURES_DIR): ArchitectureDefinition[] {
  if (dir === ARCHITECTURES_DIR && cache) {
    return cache
  }
  const defs = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const path = join(dir, f)
      let parsed: unknown
      try {
        parsed = JSON.parse(readFileSync(path, 'utf8'))
      } catch (error) {
        throw new ModelError(`${path}: not valid JSON (${(error as Error).message})`, 'DLEC_ARCH_INVALID')
      }
      return validateArchitecture(parsed, path)
    })
  if (dir === ARCHITECTURES_DIR) {
    cache = defs
  }
  return defs
}

/** The subset of a model's config.json that dlec reads; everything else is carried along untouched. */
export interface ModelConfigJson {
  architectures?: string[]
  model_type?: string
  [key: string]: unknown
}

/**
 * The definition for a config.json: by `architectures[0]`; where several claim it, the one whose
 * model type matches; with no `architectures`, by `model_type`.
 */
export function resolveArchitecture(config: ModelConfigJson, source = 'config.json'): ArchitectureDefinition {
  const defs = listArchitectures()
  const archName = Array.isArray(config.architectures) ? config.architectures[0] : undefined
  const modelType = typeof config.model_type === 'string' ? config.model_type : undefined
  if (archName !== undefined) {
    const claimed = defs.filter((d) => d.architectures.includes(archName))
    const exact = claimed.find((d) => modelType !== undefined && d.modelTypes.includes(modelType))
    if (exact ?? claimed[0]) {
      return exact ?? (claimed[0] as ArchitectureDefinition)
    }
  }
  const byType = modelType === undefined ? undefined : defs.find((d) => d.modelTypes.includes(modelType))
  if (byType) {
    return byType
  }
  const what = archName ?? modelType ?? '(no architectures or model_type)'
  const supported = defs.flatMap((d) => d.architectures).join(', ')
  throw new ModelError(
    `${source}: unsupported architecture ${what}; dlec supports ${supported} (add a file to architectures/ for a new family)`,
    'DLEC_ARCH_UNSUPPORTED',
  )
}

/** Reads a dotted config key such as `text_config.num_hidden_layers`. */
export function getConfigValue(config: Record<string, unknown>, dottedKey: string): unknown {
  let cur: unknown = config
  for (const part of dottedKey.split('.')) {
    if (typeof cur !== 'object' || cur === null) {
      return undefined
    }
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}

/** Returns a copy of `config` with the dotted key set. */
export function setConfigValue<T extends Record<string, unknown>>(config: T, dottedKey: string, value: unknown): T {
  const parts = dottedKey.split('.')
  const out: Record<string, unknown> = {...config}
  let cur = out
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1) {
      cur[part] = value
    } else {
      const next = cur[part]
      cur[part] = typeof next === 'object' && next !== null ? {...(next as Record<string, unknown>)} : {}
      cur = cur[part] as Record<string, unknown>
    }
  }
  return out as T
}

/** The layer count of a model, from its architecture's config key. */
export function numLayersOf(config: ModelConfigJson, arch: ArchitectureDefinition, source = 'config.json'): number {
  const n = getConfigValue(config, arch.numLayersKey)
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new ModelError(`${source}: ${arch.numLayersKey} must be a non-negative integer (got ${JSON.stringify(n)})`)
  }
  if (n > MAX_MODEL_LAYERS) {
    throw new ModelError(`${source}: ${arch.numLayersKey} ${n} is beyond dlec's limit of ${MAX_MODEL_LAYERS} layers`, 'DLEC_CONFIG_INVALID')
  }
  // Per-layer lists (layer_types, ...) must describe exactly these layers: a merge remaps them and
  // the graph reads them per layer, so a list of another length would be copied or read wrongly.
  for (const key of arch.perLayerConfigKeys) {
    const list = getConfigValue(config, key)
    if (list !== undefined && list !== null && (!Array.isArray(list) || list.length !== n)) {
      throw new ModelError(`${source}: ${key} has ${Array.isArray(list) ? `${list.length} entries` : 'no list'} but ${arch.numLayersKey} is ${n}`, 'DLEC_CONFIG_INVALID')
    }
  }
  return n
}
