import {ConfigError} from '../errors.js'
import {decodeUtf8, readInputFile} from '../util/read-input-file.js'
import type {MergeConfig} from './merge-config.js'
import {parseMergeConfig} from './parse-merge-config.js'

/** The largest mergekit YAML dlec reads (the biggest published configs are a few KB). */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024

/** Reads and validates a mergekit YAML file; `text` is the verbatim file (mergekit copies it out). */
export async function readMergeConfig(path: string): Promise<{config: MergeConfig; text: string; warnings: string[]}> {
  const fail = (why: string): never => {
    throw new ConfigError(`${path}: cannot read mergekit config (${why})`, 'DLEC_CONFIG_READ')
  }
  const text = decodeUtf8(await readInputFile(path, {maxBytes: MAX_CONFIG_BYTES, fail}), fail)
  const {config, warnings} = parseMergeConfig(text, path)
  return {config, text, warnings}
}
