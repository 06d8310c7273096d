import {existsSync, statSync} from 'node:fs'
import {readdir} from 'node:fs/promises'
import {delimiter, join, resolve} from 'node:path'
import {execa} from 'execa'
import {DlecError, MergekitError} from '../errors.js'
import type {MergeEvent} from '../merge/merge-event.js'
import {stagingDir} from '../merge/staging-dir.js'

/** Bytes of mergekit's output kept for the error details (the end, where the traceback is). */
const MAX_DETAILS = 64 * 1024

/**
 * The mergekit-yaml executable: `explicit` if given (must exist), else the first `mergekit-yaml` on
 * `pathEnv` (the caller passes PATH). Undefined when not found and not explicit.
 */
export function findMergekit(params: {explicit?: string; pathEnv?: string}): string | undefined {
  if (params.explicit !== undefined) {
    if (!existsSync(params.explicit) || !statSync(params.explicit).isFile()) {
      throw new MergekitError(`${params.explicit}: mergekit-yaml not found at that path`, 'DLEC_MERGEKIT_MISSING')
    }
    return resolve(params.explicit)
  }
  for (const dir of (params.pathEnv ?? '').split(delimiter)) {
    const candidate = join(dir, 'mergekit-yaml')
    if (dir !== '' && existsSync(candidate) && statSync(candidate).isFile()) {
      return candidate
    }
  }
  return undefined
}

/**
 * Runs the real `mergekit-yaml CONFIG OUT` (argument array, no shell) into a temporary folder beside
 * `out`, renamed into place on success (so a failed run leaves no `out`, unlike mergekit alone).
 * Yields its tqdm progress as `stage` events. A non-zero exit becomes a MergekitError whose message
 * is mergekit's last error line and whose `details` hold its output.
 */
export async function* runMergekit(params: {
  mergekit: string
  config: string
  out: string
  outShardSize?: number
  force?: boolean
  extraArgs?: string[]
  signal?: AbortSignal
}): AsyncGenerator<MergeEvent, {out: string}> {
  const staging = await stagingDir(params.out, params.force)
  const args = [params.config, staging.dir, ...(params.outShardSize === undefined ? [] : ['--out-shard-size', String(params.outShardSize)]), ...(params.extraArgs ?? [])]
  yield {type: 'start', engine: 'mergekit', command: [params.mergekit, params.config, params.out, ...args.slice(2)]}
  let output = ''
  try {
    const child = execa(params.mergekit, args, {reject: false, stdin: 'ignore', all: true, buffer: false, cancelSignal: params.signal})
    let pending = ''
    for await (const chunk of child.all) {
      const text = chunk.toString()
      output = (output + text).slice(-MAX_DETAILS)
      const pieces = (pending + text).split(/[\r\n]/)
      pending = pieces.pop() ?? ''
      for (const piece of pieces) {
        const bar = /^([^:|]+):\s*\d+%\|[^|]*\|\s*(\d+)\/(\d+)/.exec(piece.trim())
        if (bar) {
          yield {type: 'stage', stage: bar[1] ?? '', done: Number(bar[2]), total: Number(bar[3])}
        }
      }
    }
    const result = await child
    if (result.isCanceled) {
      throw new DlecError('interrupted', 'DLEC_INTERRUPTED', `mergekit-yaml was interrupted; nothing was written to ${params.out}`, {details: output})
    }
    if (result.exitCode !== 0 || result.failed) {
      const cause = result.exitCode === undefined ? (result.originalMessage ?? 'did not start') : `exit ${result.exitCode}`
      throw new MergekitError(`mergekit-yaml failed (${cause}): ${lastErrorLine(output)}`, 'DLEC_MERGEKIT_FAILED', {details: output})
    }
    const files = await readdir(staging.dir)
    await staging.commit()
    yield {type: 'done', out: params.out, bytes: 0, files}
    return {out: params.out}
  } catch (error) {
    await staging.discard()
    throw error
  }
}

/** The most telling line of mergekit's output: the last exception line, else the last line. */
export function lastErrorLine(output: string): string {
  const lines = output.split(/[\r\n]+/).map((l) => l.trim()).filter((l) => l.length > 0)
  const error = [...lines].reverse().find((l) => /^[\w.]*(Error|Exception|Aborted)\b|^Error:/.test(l))
  return (error ?? lines.at(-1) ?? 'no output').slice(0, 500)
}
