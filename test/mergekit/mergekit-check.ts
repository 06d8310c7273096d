import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {python} from '../helpers/cli.js'

const SCRIPT = fileURLToPath(new URL('../python/mergekit_check.py', import.meta.url))

export interface ScaleQuery {
  slice: number
  model: string
  tensorName: string
  t: number
}

export type MergekitVerdict =
  | {ok: false; error: string}
  | {
      ok: true
      loaded: unknown
      slices: [string, number, number][][]
      merge_method: string
      dtype: string | null
      scales: (number | null)[]
    }

/** Runs the real mergekit (test venv) on many YAML texts in one Python process. */
export function mergekitCheck(items: {yaml: string; queries?: ScaleQuery[]}[]): MergekitVerdict[] {
  const out = execFileSync(python(), [SCRIPT], {input: JSON.stringify(items), maxBuffer: 256 * 1024 * 1024, encoding: 'utf8'})
  return JSON.parse(out) as MergekitVerdict[]
}
