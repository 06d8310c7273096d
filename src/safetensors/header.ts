import {SafetensorsParseError} from '../errors.js'
import {dtypeBytes, isSafetensorsDtype, type SafetensorsDtype} from './dtype.js'

/**
 * Limits for untrusted safetensors headers. A header is JSON that a file declares about itself;
 * none of its numbers are trusted until checked against these and against the file size.
 */
/** Largest JSON header accepted: the safetensors library's own limit (100 MB, CWE-770). */
export const MAX_HEADER_BYTES = 100_000_000
/** Most tensors one file may declare (CWE-770: bounds the work done on a hostile header). */
export const MAX_TENSORS = 1_000_000
/** Most dimensions one tensor may have (CWE-1284); real checkpoints use at most 5. */
export const MAX_TENSOR_DIMS = 16
/** Longest tensor name accepted, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 4096
/** Bytes of the little-endian u64 header length that starts every file. */
export const LENGTH_PREFIX_BYTES = 8

export interface SafetensorsTensorEntry {
  name: string
  dtype: SafetensorsDtype
  shape: number[]
  /** Offset of the first byte relative to the start of the data section. */
  begin: number
  /** Offset one past the last byte relative to the start of the data section. */
  end: number
}

export interface SafetensorsHeader {
  /** Length of the JSON header in bytes (the u64 prefix). */
  headerLength: number
  /** Absolute offset of the data section: 8 + headerLength. */
  dataStart: number
  /** `__metadata__` (string values only), or an empty object. */
  metadata: Record<string, string>
  /** Tensors in data-offset order. */
  tensors: SafetensorsTensorEntry[]
}

/**
 * Reads the header length from the first 8 bytes of a file and checks it against the limits and
 * the file size. `source` names the file in errors.
 */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < LENGTH_PREFIX_BYTES || prefix.byteLength < LENGTH_PREFIX_BYTES) {
    throw new SafetensorsParseError(`${source}: file is ${fileSize} bytes, too short to hold a safetensors header`)
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, LENGTH_PREFIX_BYTES)
  const length = view.getBigUint64(0, true)
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsParseError(`${source}: header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit`)
  }
  const n = Number(length)
  if (LENGTH_PREFIX_BYTES + n > fileSize) {
    throw new SafetensorsParseError(`${source}: header length ${n} runs past the end of the ${fileSize}-byte file (truncated?)`)
  }
  return n
}

/**
 * Parses and validates a safetensors header. `bytes` holds at least the 8-byte length prefix and
 * the whole JSON header (the start of the file); `fileSize` is the size of the whole file. Pure.
 * Checks: JSON object, known dtypes, shapes of non-negative safe integers, data offsets that tile
 * the data section exactly (sorted, contiguous, no overlaps, ending at the end of the file), and
 * shape x element size equal to each tensor's byte length.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, fileSize: number, source: string): SafetensorsHeader {
  const headerLength = readHeaderLength(bytes, fileSize, source)
  const dataStart = LENGTH_PREFIX_BYTES + headerLength
  if (bytes.byteLength < dataStart) {
    throw new SafetensorsParseError(`${source}: got ${bytes.byteLength} bytes, the header needs ${dataStart}`)
  }
  const json = decodeJson(bytes.subarray(LENGTH_PREFIX_BYTES, dataStart), source)
  let metadata: Record<string, string> = {}
  const tensors: SafetensorsTensorEntry[] = []
  const entries = Object.entries(json)
  if (entries.length > MAX_TENSORS + 1) {
    throw new SafetensorsParseError(`${source}: header declares ${entries.length} entries, more than the ${MAX_TENSORS} limit`)
  }
  for (const [name, value] of entries) {
    if (name === '__metadata__') {
      metadata = parseMetadata(value, source)
      continue
    }
    tensors.push(parseEntry(name, value, source))
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end)
  checkTiling(tensors, fileSize - dataStart, source)
  return {headerLength, dataStart, metadata, tensors}
}

function decodeJson(raw: Uint8Array, source: string): Record<string, unknown> {
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(raw)
  } catch {
    throw new SafetensorsParseError(`${source}: header is not valid UTF-8`)
  }
  if (!text.startsWith('{')) {
    throw new SafetensorsParseError(`${source}: header does not start with '{' (not a safetensors file?)`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new SafetensorsParseError(`${source}: header is not valid JSON (${(error as Error).message})`)
  }
  if (!isRecord(parsed)) {
    throw new SafetensorsParseError(`${source}: header is not a JSON object`)
  }
  return parsed
}

function parseMetadata(value: unknown, source: string): Record<string, string> {
  if (value === null) {
    return {}
  }
  if (!isRecord(value)) {
    throw new SafetensorsParseError(`${source}: __metadata__ is not an object`)
  }
  const out: Record<string, string> = {}
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new SafetensorsParseError(`${source}: __metadata__.${key} is not a string`)
    }
    out[key] = v
  }
  return out
}

function parseEntry(name: string, value: unknown, source: string): SafetensorsTensorEntry {
  const at = `${source}: tensor ${JSON.stringify(name.slice(0, 200))}`
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new SafetensorsParseError(`${at}: name length ${name.length} is outside 1..${MAX_NAME_LENGTH}`)
  }
  if (!isRecord(value)) {
    throw new SafetensorsParseError(`${at}: entry is not an object`)
  }
  const {dtype, shape, data_offsets: offsets} = value
  if (typeof dtype !== 'string' || !isSafetensorsDtype(dtype)) {
    throw new SafetensorsParseError(`${at}: unknown dtype ${JSON.stringify(dtype)}`)
  }
  if (!Array.isArray(shape) || shape.length > MAX_TENSOR_DIMS || !shape.every(isSize)) {
    throw new SafetensorsParseError(`${at}: shape must be a list of at most ${MAX_TENSOR_DIMS} non-negative integers`)
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSize)) {
    throw new SafetensorsParseError(`${at}: data_offsets must be two non-negative integers`)
  }
  const [begin, end] = offsets as [number, number]
  if (end < begin) {
    throw new SafetensorsParseError(`${at}: data_offsets [${begin}, ${end}] end before they begin`)
  }
  let elements = 1
  for (const dim of shape as number[]) {
    elements *= dim
    if (!Number.isSafeInteger(elements)) {
      throw new SafetensorsParseError(`${at}: shape [${shape.join(', ')}] is too large`)
    }
  }
  const expected = elements * dtypeBytes(dtype)
  if (!Number.isSafeInteger(expected) || expected !== end - begin) {
    throw new SafetensorsParseError(
      `${at}: shape [${shape.join(', ')}] of ${dtype} needs ${expected} bytes but data_offsets give ${end - begin}`,
    )
  }
  return {name, dtype, shape: shape as number[], begin, end}
}

function checkTiling(tensors: SafetensorsTensorEntry[], dataBytes: number, source: string): void {
  let cursor = 0
  for (const tensor of tensors) {
    if (tensor.begin !== cursor) {
      const what = tensor.begin < cursor ? 'overlaps the previous tensor' : `leaves a gap after byte ${cursor}`
      throw new SafetensorsParseError(`${source}: tensor ${tensor.name} at data offset ${tensor.begin} ${what}`)
    }
    cursor = tensor.end
  }
  if (cursor > dataBytes) {
    const last = tensors.at(-1)?.name ?? ''
    throw new SafetensorsParseError(
      `${source}: tensor ${last} ends at data offset ${cursor}, past the ${dataBytes}-byte data section (truncated file?)`,
    )
  }
  if (cursor < dataBytes) {
    throw new SafetensorsParseError(`${source}: ${dataBytes - cursor} bytes after the last tensor are not described by the header`)
  }
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
