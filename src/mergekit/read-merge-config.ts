import {readFile} from 'node:fs/promises'
import {ConfigError} from '../errors.js'
import type {MergeConfig} from './merge-config.js'
import {parseMergeConfig} from './parse-merge-config.js'

/** Reads and validates a mergekit YAML file; `text` is the verbatim file (mergekit copies it out). */
export async function readMergeConfig(path: string): Promise<{config: MergeConfig; text: string; warnings: string[]}> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message
    throw new ConfigError(`${path}: cannot read mergekit config (${why})`, 'DLEC_CONFIG_READ')
  }
  const {config, warnings} = parseMergeConfig(text, path)
  return {config, text, warnings}
}
