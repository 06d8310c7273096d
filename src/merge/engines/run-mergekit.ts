import {existsSync, statSync} from 'node:fs'
import {readdir, readFile} from 'node:fs/promises'
import {delimiter, join, resolve} from 'node:path'
import {execa} from 'execa'
import {DlecError, MergekitError} from '../../errors.js'
import type {MergeEvent} from '../merge-event.js'
import {stagingDir} from '../staging-dir.js'
import {ShardedTensorIndex} from '../../safetensors/reader.js'
import {fsReason} from '../../util/fs-error.js'

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
  /** Runs on mergekit's output after it is checked, before it is moved into place. */
  beforeCommit?: (dir: string) => Promise<void>
}): AsyncGenerator<MergeEvent, {out: string; files: string[]; bytes: number; tensors: number}> {
  const staging = await stagingDir(params.out, params.force)
  const args = [params.config, staging.dir, ...(params.outShardSize === undefined ? [] : ['--out-shard-size', String(params.outShardSize)]), ...(params.extraArgs ?? [])]
  let committed = false
  let child: ReturnType<typeof execa> | undefined
  try {
    yield {type: 'start', engine: 'mergekit', command: [params.mergekit, params.config, params.out, ...args.slice(2)]}
    let output = ''
    child = execa(params.mergekit, args, {reject: false, stdin: 'ignore', all: true, buffer: false, cancelSignal: params.signal})
    let pending = ''
    for await (const chunk of child.all ?? []) {
      const text = String(chunk)
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
    // A terminal's Ctrl-C reaches mergekit too, which may exit on its own before the abort lands.
    if (result.isCanceled || params.signal?.aborted) {
      throw new DlecError('interrupted', 'DLEC_INTERRUPTED', `mergekit-yaml was interrupted; nothing was written to ${params.out}`, {details: output})
    }
    if (result.exitCode !== 0 || result.failed) {
      const cause = result.exitCode === undefined ? (result.originalMessage ?? 'did not start') : `exit ${result.exitCode}`
      throw new MergekitError(`mergekit-yaml failed (${cause}): ${lastErrorLine(output)}`, 'DLEC_MERGEKIT_FAILED', {details: output})
    }
    const written = await checkMergekitOutput(staging.dir, output)
    await params.beforeCommit?.(staging.dir)
    await staging.commit()
    committed = true
    yield {type: 'done', out: params.out, bytes: written.bytes, files: written.files}
    return {out: params.out, ...written}
  } finally {
    // Also when the consumer stops early: the child is killed and its staging folder removed.
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await Promise.resolve(child).catch(() => undefined)
    }
    if (!committed) {
      await staging.discard()
    }
  }
}

/**
 * What mergekit wrote, checked before it is moved into place (a mergekit that exits 0 after writing
 * nothing usable must not leave OUT): config.json a JSON object and the safetensors readable.
 */
async function checkMergekitOutput(dir: string, output: string): Promise<{files: string[]; bytes: number; tensors: number}> {
  const bad = (why: string, cause?: unknown): never => {
    throw new MergekitError(`mergekit-yaml exited 0 but its output is unusable: ${why}`, 'DLEC_MERGEKIT_BAD_OUTPUT', {cause, details: output})
  }
  const files = await readdir(dir)
  try {
    const config: unknown = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'))
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      bad('config.json is not a JSON object')
    }
  } catch (error) {
    if (error instanceof DlecError) {
      throw error
    }
    bad(`config.json: ${error instanceof SyntaxError ? 'not valid JSON' : fsReason(error)}`, error)
  }
  let index: ShardedTensorIndex
  try {
    index = await ShardedTensorIndex.open(dir)
  } catch (error) {
    return bad(error instanceof DlecError ? error.message : fsReason(error), error)
  }
  try {
    const names = index.names()
    if (names.length === 0) {
      bad('it wrote no tensors')
    }
    return {files, tensors: names.length, bytes: names.reduce((sum, name) => sum + index.info(name).byteLength, 0)}
  } finally {
    await index.close()
  }
}

/** The most telling line of mergekit's output: the last exception line, else the last line. */
export function lastErrorLine(output: string): string {
  const lines = output.split(/[\r\n]+/).map((l) => l.trim()).filter((l) => l.length > 0)
  const error = [...lines].reverse().find((l) => /^[\w.]*(Error|Exception|Aborted)\b|^Error:/.test(l))
  return (error ?? lines.at(-1) ?? 'no output').slice(0, 500)
}
