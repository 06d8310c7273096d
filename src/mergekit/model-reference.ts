import type {ConfigReader} from './config-reader.js'
import {join} from './config-reader.js'

export interface ModelPath {
  path: string
  revision?: string
}

export interface ParsedModelReference {
  model: ModelPath
  lora?: ModelPath
}

/**
 * Splits mergekit's model-reference string: `path`, `path@revision`, `model+lora` (each part may
 * carry `@revision`). Returns undefined where mergekit refuses it (two `+`, or two `@` in a part).
 */
export function parseModelReference(ref: string): ParsedModelReference | undefined {
  const chunks = ref.split('+')
  if (chunks.length > 2) {
    return undefined
  }
  const paths = chunks.map(parseModelPath)
  const [model, lora] = paths
  if (model === undefined || paths.includes(undefined)) {
    return undefined
  }
  return lora === undefined ? {model} : {model, lora}
}

function parseModelPath(text: string): ModelPath | undefined {
  const parts = text.split('@')
  if (parts.length > 2) {
    return undefined
  }
  const [path, revision] = parts as [string, string | undefined]
  return revision === undefined ? {path} : {path, revision}
}

/** The canonical string of a reference (mergekit's `str(ModelReference)`). */
export function formatModelReference(ref: ParsedModelReference): string {
  const one = (p: ModelPath): string => (p.revision ? `${p.path}@${p.revision}` : p.path)
  return ref.lora ? `${one(ref.model)}+${one(ref.lora)}` : one(ref.model)
}

/** Reads a `model:` value (string or mergekit's dict form) and returns its canonical string. */
export function readModelReference(reader: ConfigReader, value: unknown, place: string): string {
  if (typeof value === 'string') {
    if (value.length === 0) {
      return reader.fail(place, 'must name a model (empty string)')
    }
    const parsed = parseModelReference(value)
    if (!parsed) {
      return reader.fail(place, `cannot parse model reference "${value}" (at most one "+" and one "@" per part)`)
    }
    return formatModelReference(parsed)
  }
  const dict = reader.mapping(value, place, ['model', 'lora', 'override_architecture'])
  const readPath = (v: unknown, at: string): ModelPath => {
    if (typeof v === 'string') {
      const p = parseModelPath(v)
      return p ?? reader.fail(at, `invalid model path "${v}" (more than one "@")`)
    }
    const d = reader.mapping(v, at, ['path', 'revision'])
    const path = reader.string(d.path, join(at, 'path'))
    return d.revision === undefined || d.revision === null ? {path} : {path, revision: reader.string(d.revision, join(at, 'revision'))}
  }
  if (dict.model === undefined) {
    return reader.fail(join(place, 'model'), 'is required')
  }
  const model = readPath(dict.model, join(place, 'model'))
  const lora = dict.lora === undefined || dict.lora === null ? undefined : readPath(dict.lora, join(place, 'lora'))
  if (dict.override_architecture !== undefined && dict.override_architecture !== null) {
    reader.string(dict.override_architecture, join(place, 'override_architecture'))
    reader.warn(join(place, 'override_architecture'), 'is not used by dlec (the architecture comes from the model config.json)')
  }
  return formatModelReference(lora ? {model, lora} : {model})
}
