import {createReadStream} from 'node:fs'
import {readFile, stat} from 'node:fs/promises'
import {DataError, StoreError} from '../errors.js'
import {sqlString, withMemoryDb} from '../store/db.js'
import {fsReason} from '../util/fs-error.js'
import {formatFromFileName} from './text-format.js'
import type {TextFormat} from './text-format.js'

export interface LoadTextsParams {
  /** A .txt / .jsonl / .json / .parquet file. */
  path: string
  /** 'auto' (default) picks by file name; rows with a `conversations` list read as ShareGPT. */
  format?: TextFormat
  /** The text field of JSONL / Parquet rows (default `text`). */
  textField?: string
  /** Keep the first N samples. */
  maxSamples?: number
}

/**
 * Calibration or evaluation samples from a file, in file order:
 * - text: paragraphs separated by one or more blank lines are the samples;
 * - jsonl: one JSON object per line (a `.json` file holding an array of objects works too), the
 *   sample in `textField` (default `text`);
 * - parquet: an HF datasets Parquet file, read through DuckDB's read_parquet, column `textField`;
 * - sharegpt: rows with `conversations: [{from, value}, ...]` (JSONL, JSON array or Parquet); the
 *   turn values are joined with one space, as the original DLEC notebook did.
 * With format 'auto', JSON/Parquet rows that lack the text field but have `conversations` are read
 * as ShareGPT. Empty samples are dropped; a file with none, or one that cannot be read, is a
 * DataError naming the file. Text and JSONL files are streamed, and reading stops at `maxSamples`:
 * a calibration file of any size costs only the samples kept. A JSON array is parsed whole (up to
 * MAX_JSON_ARRAY_BYTES).
 */
export async function loadTexts(params: LoadTextsParams): Promise<string[]> {
  const {path} = params
  if (params.maxSamples !== undefined && (!Number.isInteger(params.maxSamples) || params.maxSamples < 1)) {
    throw new DataError(`${path}: maxSamples must be a positive integer (got ${params.maxSamples})`)
  }
  await checkReadable(path)
  const requested = params.format ?? 'auto'
  const container = requested === 'auto' || requested === 'sharegpt' ? formatFromFileName(path) : requested
  const limit = params.maxSamples ?? Number.POSITIVE_INFINITY
  let texts: string[]
  if (container === 'text') {
    if (requested === 'sharegpt') {
      throw new DataError(`${path}: ShareGPT data must be a .jsonl, .json or .parquet file`)
    }
    texts = await take(streamParagraphs(utf8Lines(path)), limit)
  } else {
    const mode = requested === 'sharegpt' ? 'sharegpt' : requested === 'auto' ? 'auto' : 'field'
    const field = params.textField ?? 'text'
    if (container === 'parquet' || (await startsWithBracket(path))) {
      const rows = container === 'parquet' ? await readParquetRows(path) : parseJsonArray(path, await readUtf8(path))
      texts = rowsToTexts(path, rows, mode, field).filter((text) => text.trim().length > 0)
    } else {
      texts = await take(jsonlTexts(path, mode, field), limit)
    }
  }
  if (texts.length === 0) {
    throw new DataError(`${path}: no text samples found (the file is empty)`)
  }
  return texts.slice(0, limit)
}

/** The first `limit` items of a stream (the rest is never read). */
async function take(items: AsyncGenerator<string>, limit: number): Promise<string[]> {
  const out: string[] = []
  if (limit <= 0) {
    return out
  }
  for await (const item of items) {
    out.push(item)
    if (out.length >= limit) {
      break
    }
  }
  return out
}

/** Samples of a plain-text file: blank-line separated paragraphs, trimmed, inner newlines kept. */
export function splitParagraphs(raw: string): string[] {
  return raw
    .replace(/^\uFEFF/, '')
    .split(/\r?\n(?:[ \t]*\r?\n)+/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph.length > 0)
}

async function checkReadable(path: string): Promise<void> {
  try {
    const info = await stat(path)
    if (info.isDirectory()) {
      throw new DataError(`${path}: is a directory, not a data file`)
    }
    if (!info.isFile()) {
      throw new DataError(`${path}: not a regular file (a FIFO, socket or device cannot be read as data)`)
    }
  } catch (error) {
    if (error instanceof DataError) {
      throw error
    }
    const code = (error as NodeJS.ErrnoException).code
    throw new DataError(`${path}: cannot read the data file (${code === 'ENOENT' ? 'no such file' : (error as Error).message})`)
  }
}

/** A JSON array is parsed whole: this is its size limit (a JSONL file of any size is streamed). */
export const MAX_JSON_ARRAY_BYTES = 256 * 1024 ** 2

const notUtf8 = (path: string): DataError => new DataError(`${path}: not valid UTF-8 text (a binary file? give --format parquet for Parquet)`)
const nulAt = (path: string, at: number): DataError => new DataError(`${path}: holds a NUL byte at character ${at}: a binary file, not text`)

/**
 * The lines of a UTF-8 file, streamed in 1 MiB chunks (so a file of any size, or one line longer
 * than a JS string may be, is never held whole), without their '\n' (a '\r' before it is kept) and
 * without a leading BOM. Invalid UTF-8 or a NUL byte (a binary file) is refused rather than read as
 * garbage. Stopping early closes the file.
 */
async function* utf8Lines(path: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', {fatal: true})
  const stream = createReadStream(path, {highWaterMark: 1024 ** 2})
  let parts: string[] = []
  let seen = 0
  let first = true
  const decode = (chunk?: Buffer): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, {stream: true})
    } catch {
      throw notUtf8(path)
    }
  }
  try {
    for await (const chunk of stream) {
      let text = decode(chunk as Buffer)
      if (first && text.length > 0) {
        first = false
        if (text.startsWith('\uFEFF')) {
          text = text.slice(1)
          seen = 1
        }
      }
      const nul = text.indexOf('\0')
      if (nul >= 0) {
        throw nulAt(path, seen + nul)
      }
      let at = 0
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', at)) {
        parts.push(text.slice(at, nl))
        yield parts.join('')
        parts = []
        at = nl + 1
      }
      if (at < text.length) {
        parts.push(text.slice(at))
      }
      seen += text.length
    }
    const rest = decode()
    if (rest.length > 0) {
      parts.push(rest)
    }
    if (parts.length > 0) {
      yield parts.join('')
    }
  } catch (error) {
    if (error instanceof DataError) {
      throw error
    }
    throw new DataError(`${path}: cannot read the data file (${fsReason(error)})`)
  } finally {
    stream.destroy()
  }
}

/** splitParagraphs over streamed lines: a line of only spaces / tabs ends a paragraph. */
async function* streamParagraphs(lines: AsyncGenerator<string>): AsyncGenerator<string> {
  let current: string[] = []
  const flush = (): string => {
    const paragraph = current.join('\n').trim()
    current = []
    return paragraph
  }
  for await (const line of lines) {
    if (/^[ \t]*\r?$/.test(line)) {
      const paragraph = flush()
      if (paragraph.length > 0) {
        yield paragraph
      }
    } else {
      current.push(line)
    }
  }
  const paragraph = flush()
  if (paragraph.length > 0) {
    yield paragraph
  }
}

/** Whether the file's first non-blank character is '[' (a JSON array rather than JSONL). */
async function startsWithBracket(path: string): Promise<boolean> {
  for await (const line of utf8Lines(path)) {
    const trimmed = line.trim()
    if (trimmed.length > 0) {
      return trimmed.startsWith('[')
    }
  }
  return false
}

/** The non-empty texts of a JSONL file's rows, streamed; errors name the file's line. */
async function* jsonlTexts(path: string, mode: 'auto' | 'field' | 'sharegpt', field: string): AsyncGenerator<string> {
  let line = 0
  let row = 0
  for await (const raw of utf8Lines(path)) {
    line++
    if (raw.trim().length === 0) {
      continue
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(raw)
    } catch {
      throw new DataError(`${path}:${line}: not valid JSON (expected one object per line)`)
    }
    row++
    const text = rowText(`${path}: row ${row}`, parsed, mode, field)
    if (text.trim().length > 0) {
      yield text
    }
  }
}

/** The whole file as UTF-8 text (JSON arrays only, up to MAX_JSON_ARRAY_BYTES). */
async function readUtf8(path: string): Promise<string> {
  let bytes: Uint8Array
  try {
    const size = (await stat(path)).size
    if (size > MAX_JSON_ARRAY_BYTES) {
      throw new DataError(`${path}: a JSON array of ${(size / 1024 ** 2).toFixed(0)} MiB is over the ${MAX_JSON_ARRAY_BYTES / 1024 ** 2} MiB read whole; write it as JSONL (one object per line), which is streamed`)
    }
    bytes = await readFile(path)
  } catch (error) {
    if (error instanceof DataError) {
      throw error
    }
    throw new DataError(`${path}: cannot read the data file (${fsReason(error)})`)
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    throw notUtf8(path)
  }
  const nul = text.indexOf('\0')
  if (nul >= 0) {
    throw nulAt(path, nul)
  }
  return text
}

function parseJsonArray(path: string, raw: string): unknown[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw.replace(/^\uFEFF/, ''))
  } catch {
    throw new DataError(`${path}: not valid JSON`)
  }
  if (!Array.isArray(parsed)) {
    throw new DataError(`${path}: not a JSON array of objects`)
  }
  return parsed
}

async function readParquetRows(path: string): Promise<unknown[]> {
  try {
    return await withMemoryDb(async (db) => db.allJson(`SELECT * FROM read_parquet(${sqlString(path)})`))
  } catch (error) {
    if (error instanceof StoreError || error instanceof Error) {
      throw new DataError(`${path}: cannot read Parquet (${firstLine(error.message)})`)
    }
    throw error
  }
}

function rowsToTexts(path: string, rows: unknown[], mode: 'auto' | 'field' | 'sharegpt', field: string): string[] {
  return rows.map((row, i) => rowText(`${path}: row ${i + 1}`, row, mode, field))
}

function rowText(where: string, row: unknown, mode: 'auto' | 'field' | 'sharegpt', field: string): string {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    throw new DataError(`${where} is not an object`)
  }
  const record = row as Record<string, unknown>
  const useShareGpt = mode === 'sharegpt' || (mode === 'auto' && !(field in record) && 'conversations' in record)
  if (useShareGpt) {
    return shareGptText(where, record.conversations)
  }
  const value = record[field]
  if (typeof value !== 'string') {
    throw new DataError(`${where} has no string field "${field}" (choose it with --text-field)`)
  }
  return value
}

function shareGptText(where: string, conversations: unknown): string {
  if (!Array.isArray(conversations)) {
    throw new DataError(`${where} has no "conversations" list (ShareGPT format)`)
  }
  return conversations
    .map((turn, t) => {
      const value = typeof turn === 'object' && turn !== null ? (turn as Record<string, unknown>).value : undefined
      if (typeof value !== 'string') {
        throw new DataError(`${where}: conversations[${t}] has no string "value"`)
      }
      return value
    })
    .join(' ')
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text
}
