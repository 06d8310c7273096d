import {loadTexts} from '../data/load-texts.js'

/**
 * Evaluation texts from a file. Kept for callers written before src/data landed: it is
 * loadTexts (plain text paragraphs, JSONL / JSON, Parquet, ShareGPT); new code should call that.
 */
export async function readEvalTexts(params: {file: string; textField?: string}): Promise<string[]> {
  return loadTexts({path: params.file, textField: params.textField})
}
