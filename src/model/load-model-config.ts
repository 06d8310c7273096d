import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {ModelConfigJson} from '../architectures/registry.js'
import {ModelError} from '../errors.js'

/** Reads and parses `<dir>/config.json`: a JSON object, or a ModelError naming the file. */
export async function loadModelConfig(dir: string): Promise<ModelConfigJson> {
  const file = join(dir, 'config.json')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    throw new ModelError(`${file}: not found (a model folder needs config.json)`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new ModelError(`${file}: not valid JSON (${(error as Error).message})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ModelError(`${file}: not a JSON object`)
  }
  const config = parsed as ModelConfigJson
  if (config.architectures !== undefined && !(Array.isArray(config.architectures) && config.architectures.every((a) => typeof a === 'string'))) {
    throw new ModelError(`${file}: "architectures" must be a list of class names`)
  }
  if (config.model_type !== undefined && typeof config.model_type !== 'string') {
    throw new ModelError(`${file}: "model_type" must be a string`)
  }
  return config
}
