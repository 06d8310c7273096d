import {StoreError} from '../errors.js'
import type {Db, SqlValue} from './db.js'

export type RunStatus = 'running' | 'complete' | 'failed'

export interface RunRecord {
  runId: number
  name: string
  model: string
  modelHash: string | null
  layers: number[]
  numLayers: number
  hiddenSize: number
  dataSource: string
  dataHash: string
  samples: number
  nextSample: number
  tokens: number
  options: Record<string, unknown>
  status: RunStatus
  error: string | null
  started: string
  finished: string | null
  seconds: number | null
}

export interface NewRun {
  name?: string
  model: string
  modelHash: string | null
  layers: number[]
  hiddenSize: number
  dataSource: string
  dataHash: string
  samples: number
  options: Record<string, unknown>
}

/** Inserts a run with status `running`; its name defaults to `run-<id>` and must be new. */
export async function createRun(db: Db, run: NewRun): Promise<RunRecord> {
  const next = await db.all('SELECT coalesce(max(run_id), 0) + 1 AS id FROM runs')
  const runId = Number(next[0]?.id ?? 1)
  const name = run.name ?? `run-${runId}`
  const clash = await db.all('SELECT run_id FROM runs WHERE name = $1', [name])
  if (clash.length > 0) {
    throw new StoreError(`${db.path}: a run named "${name}" already exists (choose another --name, or --resume it)`, 'DLEC_RUN_EXISTS')
  }
  await db.run(
    `INSERT INTO runs (run_id, name, model, model_hash, layers, num_layers, hidden_size, data_source, data_hash, samples, options, status, started)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'running', current_timestamp)`,
    [runId, name, run.model, run.modelHash, JSON.stringify(run.layers), run.layers.length, run.hiddenSize, run.dataSource, run.dataHash, run.samples, JSON.stringify(run.options)],
  )
  return findRun(db, name)
}

/** A run by name or numeric id; without one, the newest complete run. */
export async function findRun(db: Db, run?: string | number): Promise<RunRecord> {
  let rows: Array<Record<string, SqlValue>>
  if (run === undefined) {
    rows = await db.all(`SELECT * FROM runs WHERE status = 'complete' ORDER BY run_id DESC LIMIT 1`)
    if (rows.length === 0) {
      throw new StoreError(`${db.path}: no complete profile run (run \`dlec profile\` first)`, 'DLEC_RUN_MISSING')
    }
  } else {
    rows = await db.all('SELECT * FROM runs WHERE name = $1 OR CAST(run_id AS VARCHAR) = $1', [String(run)])
    if (rows.length === 0) {
      const names = await db.all('SELECT name FROM runs ORDER BY run_id')
      const known = names.map((r) => String(r.name)).join(', ')
      throw new StoreError(`${db.path}: no run "${run}"${known.length > 0 ? ` (runs: ${known})` : ' (the store has no runs)'}`, 'DLEC_RUN_MISSING')
    }
  }
  return toRecord(rows[0] as Record<string, SqlValue>)
}

/** Marks a run failed with a one-line reason (kept for --resume). */
export async function markRunFailed(db: Db, runId: number, reason: string): Promise<void> {
  await db.run(`UPDATE runs SET status = 'failed', error = $2 WHERE run_id = $1`, [runId, reason])
}

export async function markRunComplete(db: Db, runId: number, seconds: number): Promise<void> {
  await db.run(`UPDATE runs SET status = 'complete', error = NULL, finished = current_timestamp, seconds = $2 WHERE run_id = $1`, [runId, seconds])
}

export async function markRunRunning(db: Db, runId: number): Promise<void> {
  await db.run(`UPDATE runs SET status = 'running', error = NULL WHERE run_id = $1`, [runId])
}

/** Refuses scores over a run that did not finish. */
export function requireComplete(db: Db, run: RunRecord): void {
  if (run.status !== 'complete') {
    throw new StoreError(
      `${db.path}: run "${run.name}" is ${run.status}${run.error === null ? '' : ` (${run.error})`}, ${run.nextSample}/${run.samples} samples stored; finish it with \`dlec profile --resume ${run.name}\``,
      'DLEC_RUN_INCOMPLETE',
    )
  }
}

function toRecord(r: Record<string, SqlValue>): RunRecord {
  return {
    runId: Number(r.run_id),
    name: String(r.name),
    model: String(r.model),
    modelHash: r.model_hash === null ? null : String(r.model_hash),
    layers: JSON.parse(String(r.layers)) as number[],
    numLayers: Number(r.num_layers),
    hiddenSize: Number(r.hidden_size),
    dataSource: String(r.data_source),
    dataHash: String(r.data_hash),
    samples: Number(r.samples),
    nextSample: Number(r.next_sample),
    tokens: Number(r.tokens),
    options: JSON.parse(String(r.options)) as Record<string, unknown>,
    status: String(r.status) as RunStatus,
    error: r.error === null ? null : String(r.error),
    started: String(r.started),
    finished: r.finished === null ? null : String(r.finished),
    seconds: r.seconds === null ? null : Number(r.seconds),
  }
}
