import {readFile} from 'node:fs/promises'
import {DataError} from '../errors.js'

/**
 * Evaluation texts from a file: plain text (the whole file is one text) or JSONL (one object per
 * line, the text in `textField`, default `text`). Empty or unreadable data is a DataError.
 */
export async function readEvalTexts(params: {file: string; textField?: string}): Promise<string[]> {
  const {file} = params
  let raw: string
  try {
    raw = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new DataError(`${file}: cannot read evaluation data (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message})`)
  }
  if (raw.trim().length === 0) {
    throw new DataError(`${file}: the evaluation data is empty`)
  }
  if (!/\.jsonl$/i.test(file)) {
    return [raw]
  }
  const field = params.textField ?? 'text'
  const texts: string[] = []
  for (const [i, line] of raw.split('\n').entries()) {
    if (line.trim().length === 0) {
      continue
    }
    let row: unknown
    try {
      row = JSON.parse(line)
    } catch {
      throw new DataError(`${file}:${i + 1}: not valid JSON`)
    }
    const value = typeof row === 'object' && row !== null ? (row as Record<string, unknown>)[field] : undefined
    if (typeof value !== 'string') {
      throw new DataError(`${file}:${i + 1}: no string field "${field}" (choose it with --text-field)`)
    }
    texts.push(value)
  }
  return texts
}
