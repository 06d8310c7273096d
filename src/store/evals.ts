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
  /** Predicted tokens measured. */
  tokens?: number | null
  /** 95% bootstrap intervals (schema version 2). */
  klCi?: [number, number] | null
  lossDeltaCi?: [number, number] | null
  top1Ci?: [number, number] | null
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
        `INSERT INTO evals (eval_id, run_id, strategy, layers, added_layers, params, loss, kl, top1, extra, tokens, kl_lo, kl_hi, dloss_lo, dloss_hi, top1_lo, top1_hi)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
        [
          id,
          r.runId ?? null,
          r.strategy,
          JSON.stringify(r.layers),
          JSON.stringify(r.addedLayers),
          r.params ?? null,
          r.loss ?? null,
          r.kl ?? null,
          r.top1 ?? null,
          r.extra === undefined ? null : JSON.stringify(r.extra),
          r.tokens ?? null,
          r.klCi?.[0] ?? null,
          r.klCi?.[1] ?? null,
          r.lossDeltaCi?.[0] ?? null,
          r.lossDeltaCi?.[1] ?? null,
          r.top1Ci?.[0] ?? null,
          r.top1Ci?.[1] ?? null,
        ],
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
  // absent in a version 1 file opened read-only
  const ci = (lo: unknown, hi: unknown): [number, number] | null => (lo === null || lo === undefined || hi === null || hi === undefined ? null : [Number(lo), Number(hi)])
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
    tokens: num(r.tokens),
    klCi: ci(r.kl_lo, r.kl_hi),
    lossDeltaCi: ci(r.dloss_lo, r.dloss_hi),
    top1Ci: ci(r.top1_lo, r.top1_hi),
    extra: r.extra === null ? null : (JSON.parse(String(r.extra)) as Record<string, unknown>),
    created: String(r.created),
  }))
}
