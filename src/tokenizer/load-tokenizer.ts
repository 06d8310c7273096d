import {existsSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {Tokenizer} from '@huggingface/tokenizers'
import {ModelError} from '../errors.js'

/**
 * A model's tokenizer: `tokenizer.json` + `tokenizer_config.json` through @huggingface/tokenizers
 * (pure JS, ids equal Python `tokenizers`). BOS/EOS come from the tokenizer config; whether BOS is
 * prepended is what the tokenizer's own post-processor does.
 */
export interface TextTokenizer {
  /** Token ids of `text`, with the special tokens the tokenizer adds (e.g. BOS) unless told not to. */
  encode(text: string, options?: {addSpecialTokens?: boolean}): number[]
  decode(ids: number[], options?: {skipSpecialTokens?: boolean}): string
  bosId?: number
  eosId?: number
  /** True when encode() prepends BOS. */
  addsBos: boolean
}

export function loadTokenizer(modelDir: string): TextTokenizer {
  const jsonPath = join(modelDir, 'tokenizer.json')
  if (!existsSync(jsonPath)) {
    throw new ModelError(`${modelDir}: no tokenizer.json (dlec needs the fast-tokenizer file)`, 'DLEC_TOKENIZER_MISSING')
  }
  const configPath = join(modelDir, 'tokenizer_config.json')
  const tokenizerJson = readJson(jsonPath)
  const config = existsSync(configPath) ? readJson(configPath) : {}
  let tok: Tokenizer
  try {
    tok = new Tokenizer(tokenizerJson, config)
  } catch (error) {
    throw new ModelError(`${jsonPath}: unsupported tokenizer (${(error as Error).message})`, 'DLEC_TOKENIZER_INVALID')
  }
  const special = (key: string): number | undefined => {
    const v = config[key]
    const content = typeof v === 'string' ? v : typeof v === 'object' && v !== null ? (v as {content?: unknown}).content : undefined
    return typeof content === 'string' ? tok.token_to_id(content) : undefined
  }
  const bosId = special('bos_token')
  const probe = tok.encode('a').ids
  return {
    encode: (text, options) => tok.encode(text, {add_special_tokens: options?.addSpecialTokens ?? true}).ids,
    decode: (ids, options) => tok.decode(ids, {skip_special_tokens: options?.skipSpecialTokens ?? true}),
    bosId,
    eosId: special('eos_token'),
    addsBos: bosId !== undefined && probe[0] === bosId,
  }
}

/** Largest tokenizer file read (real ones are up to about 35 MB: Gemma's 256K-entry vocabulary). */
export const MAX_TOKENIZER_BYTES = 256 * 1024 * 1024

function readJson(path: string): Record<string, unknown> {
  const info = statSync(path)
  if (!info.isFile()) {
    throw new ModelError(`${path}: not a regular file (a folder, FIFO or device cannot be a tokenizer file)`, 'DLEC_TOKENIZER_INVALID')
  }
  if (info.size > MAX_TOKENIZER_BYTES) {
    throw new ModelError(`${path}: ${info.size} bytes, over the ${MAX_TOKENIZER_BYTES / 1024 ** 2} MiB a tokenizer file may be (real ones are under 40 MB)`, 'DLEC_TOKENIZER_INVALID')
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (error) {
    throw new ModelError(`${path}: not valid JSON (${(error as Error).message})`, 'DLEC_TOKENIZER_INVALID')
  }
}
