import {join} from 'node:path'
import type {ModelConfigJson} from '../architectures/registry.js'
import {ModelError} from '../errors.js'
import {decodeUtf8, readInputFile} from '../util/read-input-file.js'
import {traceIo} from '../trace.js'

/** The largest config.json read (real ones are a few KB). */
export const MAX_MODEL_CONFIG_BYTES = 4 * 1024 * 1024

/** Reads and parses `<dir>/config.json`: a JSON object, or a ModelError naming the file. */
export async function loadModelConfig(dir: string): Promise<ModelConfigJson> {
  const file = join(dir, 'config.json')
  traceIo('config %s', file)
  const fail = (why: string): never => {
    throw new ModelError(`${file}: ${why.startsWith('no such file') ? 'not found (a model folder needs config.json)' : `cannot read (${why})`}`, 'DLEC_MODEL_CONFIG')
  }
  const text = decodeUtf8(await readInputFile(file, {maxBytes: MAX_MODEL_CONFIG_BYTES, fail}), fail)
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
