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
 * DataError naming the file.
 */
export async function loadTexts(params: LoadTextsParams): Promise<string[]> {
  const {path} = params
  if (params.maxSamples !== undefined && (!Number.isInteger(params.maxSamples) || params.maxSamples < 1)) {
    throw new DataError(`${path}: maxSamples must be a positive integer (got ${params.maxSamples})`)
  }
  await checkReadable(path)
  const requested = params.format ?? 'auto'
  const container = requested === 'auto' || requested === 'sharegpt' ? formatFromFileName(path) : requested
  let texts: string[]
  if (container === 'text') {
    if (requested === 'sharegpt') {
      throw new DataError(`${path}: ShareGPT data must be a .jsonl, .json or .parquet file`)
    }
    texts = splitParagraphs(await readUtf8(path))
  } else {
    const rows = container === 'parquet' ? await readParquetRows(path) : parseJsonRows(path, await readUtf8(path))
    texts = rowsToTexts(path, rows, requested === 'sharegpt' ? 'sharegpt' : requested === 'auto' ? 'auto' : 'field', params.textField ?? 'text')
  }
  texts = texts.filter((text) => text.trim().length > 0)
  if (texts.length === 0) {
    throw new DataError(`${path}: no text samples found (the file is empty)`)
  }
  return params.maxSamples === undefined ? texts : texts.slice(0, params.maxSamples)
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

/** The file as UTF-8 text: invalid UTF-8, or NUL bytes (a binary file), are refused rather than read as garbage. */
async function readUtf8(path: string): Promise<string> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (error) {
    throw new DataError(`${path}: cannot read the data file (${fsReason(error)})`)
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    throw new DataError(`${path}: not valid UTF-8 text (a binary file? give --format parquet for Parquet)`)
  }
  const nul = text.indexOf('\0')
  if (nul >= 0) {
    throw new DataError(`${path}: holds a NUL byte at character ${nul}: a binary file, not text`)
  }
  return text
}

function parseJsonRows(path: string, raw: string): unknown[] {
  const trimmed = raw.replace(/^\uFEFF/, '').trim()
  if (trimmed.length === 0) {
    throw new DataError(`${path}: no text samples found (the file is empty)`)
  }
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed)
      if (Array.isArray(parsed)) {
        return parsed
      }
    } catch {
      throw new DataError(`${path}: not valid JSON`)
    }
  }
  const rows: unknown[] = []
  for (const [i, line] of trimmed.split('\n').entries()) {
    if (line.trim().length === 0) {
      continue
    }
    try {
      rows.push(JSON.parse(line))
    } catch {
      throw new DataError(`${path}:${i + 1}: not valid JSON (expected one object per line)`)
    }
  }
  return rows
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
  return rows.map((row, i) => {
    const where = `${path}: row ${i + 1}`
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
  })
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
