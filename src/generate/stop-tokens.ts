import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {ModelError} from '../errors.js'

/**
 * The end-of-sequence ids generation stops at, as transformers' `generate` finds them:
 * `generation_config.json`'s eos_token_id (a number or a list) when the file has one, else
 * config.json's, else the tokenizer's EOS. Empty when none is known.
 */
export function stopTokens(modelDir: string, config: Record<string, unknown>, tokenizerEos?: number): number[] {
  const path = join(modelDir, 'generation_config.json')
  let fromFile: unknown
  if (existsSync(path)) {
    try {
      fromFile = (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>).eos_token_id
    } catch (error) {
      throw new ModelError(`${path}: not valid JSON (${(error as Error).message})`, 'DLEC_CONFIG_INVALID')
    }
  }
  const ids = (v: unknown): number[] | undefined => {
    if (typeof v === 'number' && Number.isInteger(v)) {
      return [v]
    }
    if (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x))) {
      return v as number[]
    }
    return undefined
  }
  return ids(fromFile) ?? ids(config.eos_token_id) ?? (tokenizerEos === undefined ? [] : [tokenizerEos])
}
