import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'
import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {DlecError, ModelError} from '../errors.js'

/**
 * The weight-cache build on every core: jobs (row ranges of tensors, planned by weight-store.ts)
 * go to a pool of worker threads (convert-worker.ts), each reading its source bytes once,
 * checking them for NaN / Inf and writing its forms into the temporary file. Progress is counted in
 * source bytes. An AbortSignal stops the workers; the caller removes the temporary file.
 */
export interface ConvertJob {
  id: number
  name: string
  file: string
  /** Byte offset of the tensor in `file`. */
  offset: number
  dtype: string
  elemBytes: number
  /** Elements per row (the last dimension). */
  width: number
  rowStart: number
  rowEnd: number
  totalRows: number
  /** Temporary output file; undefined for a check-only job. */
  out?: string
  forms: {
    f32?: number
    block?: {bits: 4 | 8; blockSize: number; q: number; scales: number}
    w8?: {layout: 'nk' | 'kn'; q: number; scales: number}
  }
}

export type ConvertReply = {id: number; ok: true} | {id: number; ok: false; name: string; value: string; element: number} | {id: number; error: string; code?: string}

export interface BuildProgress {
  /** Tensors done and in all. */
  done: number
  total: number
  /** Source bytes done and in all. */
  bytes: number
  totalBytes: number
  tensor: string
}

/** Worker threads of a build: one per core (at most `jobs`). */
export function buildWorkers(jobs: number, requested?: number): number {
  return Math.max(1, Math.min(jobs, requested ?? availableParallelism()))
}

export async function* runBuildJobs(jobs: ConvertJob[], options: {workers?: number; signal?: AbortSignal; interrupted?: string}): AsyncGenerator<BuildProgress> {
  const totalBytes = jobs.reduce((s, j) => s + (j.rowEnd - j.rowStart) * j.width * j.elemBytes, 0)
  const left = new Map<string, number>()
  for (const j of jobs) {
    left.set(j.name, (left.get(j.name) ?? 0) + 1)
  }
  const total = left.size
  let tensorsDone = 0
  if (jobs.length === 0) {
    return
  }
  const count = buildWorkers(jobs.length, options.workers)
  // From the sources (tests, benches under tsx) the worker is TypeScript too and needs the loader.
  const fromSource = import.meta.url.endsWith('.ts')
  const url = new URL(fromSource ? './convert-worker.ts' : './convert-worker.js', import.meta.url)
  const workers = Array.from({length: count}, () =>
    fromSource ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}) })`, {eval: true}) : new Worker(url),
  )
  const queue = [...jobs]
  const byId = new Map(jobs.map((j) => [j.id, j]))
  const events: (BuildProgress | Error)[] = []
  let wake: (() => void) | undefined
  let finished = 0
  let failed = false
  const push = (e: BuildProgress | Error): void => {
    events.push(e)
    wake?.()
  }
  let done = 0
  const feed = (w: Worker): void => {
    const job = queue.shift()
    if (job !== undefined && !failed) {
      w.postMessage(job)
    }
  }
  for (const w of workers) {
    w.on('message', (reply: ConvertReply | 'closed') => {
      if (reply === 'closed') {
        return
      }
      const job = byId.get(reply.id) as ConvertJob
      if ('error' in reply) {
        failed = true
        const full = reply.code === 'ENOSPC' || reply.code === 'EDQUOT'
        push(full ? new ModelError(`${job.out ?? job.file}: no space left for the converted weights; free space or pass another cache folder`, 'DLEC_CACHE_FULL') : new ModelError(`tensor ${job.name} (${job.file}): ${reply.error}`, 'DLEC_WEIGHT_READ'))
        return
      }
      if (!reply.ok) {
        failed = true
        push(new ModelError(`tensor ${reply.name} contains ${reply.value} at element ${reply.element} (${job.file})`, 'DLEC_WEIGHT_NONFINITE'))
        return
      }
      done += (job.rowEnd - job.rowStart) * job.width * job.elemBytes
      finished++
      const rest = (left.get(job.name) ?? 1) - 1
      left.set(job.name, rest)
      if (rest === 0) {
        tensorsDone++
        push({done: tensorsDone, total, bytes: done, totalBytes, tensor: job.name})
      }
      feed(w)
    })
    w.on('error', (error) => {
      failed = true
      push(error)
    })
  }
  const onAbort = (): void => {
    failed = true
    push(new DlecError('interrupted', 'DLEC_INTERRUPTED', options.interrupted ?? 'the weight-cache build was interrupted; nothing was cached'))
  }
  options.signal?.addEventListener('abort', onAbort, {once: true})
  try {
    if (options.signal?.aborted === true) {
      onAbort()
    }
    for (const w of workers) {
      feed(w)
    }
    while (finished < jobs.length) {
      if (events.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        wake = undefined
      }
      const e = events.shift()
      if (e instanceof Error) {
        throw e
      }
      if (e !== undefined) {
        yield e
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    // File descriptors belong to the process, not the thread: each worker closes its own (after
    // the chunk it is on) before it is stopped.
    await Promise.all(workers.map((w) => closeWorker(w)))
  }
}

async function closeWorker(w: Worker): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 10_000)
    w.on('message', (m) => {
      if (m === 'closed') {
        clearTimeout(timer)
        resolve()
      }
    })
    w.on('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    w.postMessage('close')
  })
  await w.terminate()
}

/**
 * Takes the lock folder `lock` (with the holder's PID inside) unless `ready()`, and returns its
 * release; undefined when `ready()` (nothing to build). A second process building the same cache
 * waits for the first and then finds it ready; a lock left by a dead process is taken over and
 * its temporary files (`*.tmp-PID`) are removed.
 */
export async function acquireBuildLock(lock: string, ready: () => boolean, signal?: AbortSignal): Promise<(() => void) | undefined> {
  for (;;) {
    if (ready()) {
      return undefined
    }
    // The lock folder appears whole, PID inside, by one rename: no holder is ever seen without its
    // PID (a holder killed between making the folder and writing the PID would block every build).
    // A rename onto an empty folder replaces it, so an empty lock left by an older dlec is taken over.
    const staging = `${lock}.tmp-${process.pid}`
    rmSync(staging, {recursive: true, force: true})
    mkdirSync(staging)
    writeFileSync(join(staging, 'pid'), String(process.pid))
    try {
      renameSync(staging, lock)
    } catch (error) {
      rmSync(staging, {recursive: true, force: true})
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY' && code !== 'EISDIR' && code !== 'ENOTDIR') {
        throw error
      }
      const holder = lockHolder(lock)
      if (holder === undefined) {
        // a lock without a readable PID is never one this code made whole: take it over
        rmSync(lock, {recursive: true, force: true})
        continue
      }
      if (!alive(holder)) {
        removeStale(lock, holder)
        continue
      }
      if (signal?.aborted === true) {
        throw new DlecError('interrupted', 'DLEC_INTERRUPTED', 'interrupted while waiting for another process to build the weight cache')
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
      continue
    }
    const release = (): void => rmSync(lock, {recursive: true, force: true})
    if (ready()) {
      release()
      return undefined
    }
    return release
  }
}

function lockHolder(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'))
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function removeStale(lock: string, pid: number): void {
  const dir = join(lock, '..')
  if (existsSync(dir)) {
    for (const f of readdirSync(dir)) {
      if (f.endsWith(`.tmp-${pid}`)) {
        rmSync(join(dir, f), {recursive: true, force: true})
      }
    }
  }
  rmSync(lock, {recursive: true, force: true})
}
