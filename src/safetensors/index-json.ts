import {SafetensorsParseError} from '../errors.js'

/** Name of the index file of a sharded checkpoint. */
export const INDEX_FILE = 'model.safetensors.index.json'
/** Name of a single-file checkpoint. */
export const SINGLE_FILE = 'model.safetensors'

export interface SafetensorsIndexJson {
  metadata: Record<string, unknown>
  /** Tensor name -> shard file name (relative to the model folder), in file order. */
  weightMap: Map<string, string>
}

/**
 * Parses `model.safetensors.index.json` text. Every shard path must be a plain relative path inside
 * the model folder: no absolute paths, no `..` or `.` segments, no backslashes, no empty segments.
 * `source` names the file in errors. Pure.
 */
export function parseIndexJson(text: string, source: string): SafetensorsIndexJson {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new SafetensorsParseError(`${source}: not valid JSON (${(error as Error).message})`)
  }
  if (!isRecord(parsed) || !isRecord(parsed.weight_map)) {
    throw new SafetensorsParseError(`${source}: missing the "weight_map" object`)
  }
  const metadata = isRecord(parsed.metadata) ? parsed.metadata : {}
  const weightMap = new Map<string, string>()
  for (const [name, file] of Object.entries(parsed.weight_map)) {
    if (typeof file !== 'string') {
      throw new SafetensorsParseError(`${source}: weight_map entry for ${name} is not a file name`)
    }
    checkShardPath(file, name, source)
    weightMap.set(name, file)
  }
  if (weightMap.size === 0) {
    throw new SafetensorsParseError(`${source}: weight_map is empty`)
  }
  return {metadata, weightMap}
}

/** Throws unless `file` is a relative path that stays inside the folder it is relative to. */
export function checkShardPath(file: string, tensor: string, source: string): void {
  const segments = file.split('/')
  const bad =
    file.length === 0 ||
    file.startsWith('/') ||
    file.includes('\\') ||
    file.includes('\0') ||
    /^[A-Za-z]:/.test(file) ||
    segments.some((s) => s === '' || s === '.' || s === '..')
  if (bad) {
    throw new SafetensorsParseError(
      `${source}: weight_map path ${JSON.stringify(file)} for tensor ${tensor} leaves the model folder or is not a plain relative path`,
    )
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
