import type {Db} from './db.js'

/** One evaluation of a layer sequence (curve steps, plan candidates). */
export interface EvalRecord {
  /** The profile run it belongs to, when there is one. */
  runId?: number | null
  strategy: string
  layers: number[]
  addedLayers: number[]
  params?: number | null
  loss?: number | null
  kl?: number | null
  top1?: number | null
  /** Anything else worth keeping (stored as JSON). */
  extra?: Record<string, unknown>
}

export interface StoredEval extends Required<Omit<EvalRecord, 'extra'>> {
  evalId: number
  extra: Record<string, unknown> | null
  created: string
}

/** Appends evaluations to the `evals` table in one transaction; returns their ids. */
export async function insertEvals(db: Db, records: readonly EvalRecord[]): Promise<number[]> {
  const next = await db.all('SELECT coalesce(max(eval_id), 0) + 1 AS id FROM evals')
  let id = Number(next[0]?.id ?? 1)
  const ids: number[] = []
  await db.run('BEGIN TRANSACTION')
  try {
    for (const r of records) {
      await db.run(
        `INSERT INTO evals (eval_id, run_id, strategy, layers, added_layers, params, loss, kl, top1, extra) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [id, r.runId ?? null, r.strategy, JSON.stringify(r.layers), JSON.stringify(r.addedLayers), r.params ?? null, r.loss ?? null, r.kl ?? null, r.top1 ?? null, r.extra === undefined ? null : JSON.stringify(r.extra)],
      )
      ids.push(id)
      id++
    }
    await db.run('COMMIT')
  } catch (error) {
    await db.run('ROLLBACK')
    throw error
  }
  return ids
}

/** Stored evaluations, oldest first, optionally of one strategy and/or run. */
export async function listEvals(db: Db, filter: {strategy?: string; runId?: number} = {}): Promise<StoredEval[]> {
  const rows = await db.all(
    `SELECT * FROM evals WHERE ($1::VARCHAR IS NULL OR strategy = $1) AND ($2::INTEGER IS NULL OR run_id = $2) ORDER BY eval_id`,
    [filter.strategy ?? null, filter.runId ?? null],
  )
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
  return rows.map((r) => ({
    evalId: Number(r.eval_id),
    runId: num(r.run_id),
    strategy: String(r.strategy),
    layers: JSON.parse(String(r.layers)) as number[],
    addedLayers: JSON.parse(String(r.added_layers)) as number[],
    params: num(r.params),
    loss: num(r.loss),
    kl: num(r.kl),
    top1: num(r.top1),
    extra: r.extra === null ? null : (JSON.parse(String(r.extra)) as Record<string, unknown>),
    created: String(r.created),
  }))
}
