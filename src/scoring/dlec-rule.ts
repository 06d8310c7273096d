import type {Db} from '../store/db.js'
import type {RunRecord} from '../store/runs.js'

/** One label's verdict under a DLEC rule. */
export interface DlecRuleRow {
  /** The rule's layer id (see `variant`). */
  label: number
  /** The stored hidden-state point the values came from. */
  point: number
  values: number
  mean: number
  std: number
  max: number
  /** The rule's threshold (original: histogram quantile as a fraction of max; corrected: mean + 2 std). */
  threshold: number
  /** The fraction of values past the threshold (original: of z-scores; corrected: of |a|). */
  fraction: number
  beneficial: boolean
}

export interface DlecRuleResult {
  variant: 'original' | 'corrected'
  description: string
  rows: DlecRuleRow[]
  beneficial: number[]
}

export const DEFAULT_BINS = 100

/**
 * The original DLEC rule (`analyze_layer` in its notebook), reproduced as its code does it, over the
 * stored raw activations: labels are transformers' hidden_states indices (label 0 = embeddings,
 * label k = output of block k-1, the last label = after the final norm), all stored positions (the
 * original stored position 0 only). Per label, A = |a|; mu, sigma (unbiased); a histc-style histogram
 * of A with `bins` equal bins over [0, max A] (values equal to max fall in the last bin); cdf =
 * cumsum / N; q = (first bin index with cdf >= 0.95) / bins; z = (A - mu) / sigma; beneficial iff
 * mean(z >= q) >= 0.05. Note q is a fraction of max(A) compared with z-scores (its units bug).
 */
export async function dlecOriginalRule(db: Db, run: RunRecord, bins = DEFAULT_BINS): Promise<DlecRuleResult> {
  const L = run.numLayers
  const rows = await db.all(
    `WITH a AS (
       SELECT CASE WHEN point = ${L + 1} THEN ${L} ELSE point END AS label, point, abs(value)::DOUBLE AS x
       FROM activations WHERE run_id = $1 AND point <> ${L}),
     s AS (SELECT label, any_value(point) AS point, count(*) AS n, avg(x) AS mu, stddev_samp(x) AS sigma, max(x) AS mx FROM a GROUP BY label),
     h AS (
       SELECT a.label, CASE WHEN s.mx = 0 THEN 0 ELSE least(floor(a.x * ${bins} / s.mx), ${bins - 1}) END AS bin, count(*) AS c
       FROM a JOIN s USING (label) GROUP BY ALL),
     c AS (SELECT h.label, h.bin, sum(h.c) OVER (PARTITION BY h.label ORDER BY h.bin) / s.n AS cdf FROM h JOIN s USING (label)),
     q AS (SELECT label, min(bin) / ${bins} AS q FROM c WHERE cdf >= 0.95 GROUP BY label)
     SELECT s.label, s.point, s.n, s.mu, s.sigma, s.mx, q.q,
       avg(CASE WHEN (a.x - s.mu) / s.sigma >= q.q THEN 1 ELSE 0 END) AS frac
     FROM a JOIN s USING (label) JOIN q USING (label)
     GROUP BY ALL ORDER BY s.label`,
    [run.runId],
  )
  return finish('original', 'original DLEC rule as its notebook runs it (hidden_states ids: 0 = embeddings; q in max-normalised units compared with z-scores)', rows, 'q')
}

/**
 * A corrected DLEC rule: labels aligned with block indices (label l = output of block l, before the
 * final norm), positions >= 1 only, and consistent units: beneficial iff at least 5% of |a| lies above
 * mu + 2 sigma (the threshold the original computed and never used).
 */
export async function dlecCorrectedRule(db: Db, run: RunRecord): Promise<DlecRuleResult> {
  const L = run.numLayers
  const rows = await db.all(
    `WITH a AS (
       SELECT point - 1 AS label, point, abs(value)::DOUBLE AS x
       FROM activations WHERE run_id = $1 AND point BETWEEN 1 AND ${L} AND position >= 1),
     s AS (SELECT label, any_value(point) AS point, count(*) AS n, avg(x) AS mu, stddev_samp(x) AS sigma, max(x) AS mx FROM a GROUP BY label)
     SELECT s.label, s.point, s.n, s.mu, s.sigma, s.mx, s.mu + 2 * s.sigma AS q,
       avg(CASE WHEN a.x > s.mu + 2 * s.sigma THEN 1 ELSE 0 END) AS frac
     FROM a JOIN s USING (label) GROUP BY ALL ORDER BY s.label`,
    [run.runId],
  )
  return finish('corrected', 'corrected DLEC rule (block ids, positions >= 1, share of |a| above mean + 2 std)', rows, 'q')
}

function finish(variant: 'original' | 'corrected', description: string, raw: Array<Record<string, unknown>>, thresholdKey: string): DlecRuleResult {
  const rows: DlecRuleRow[] = raw.map((r) => {
    const fraction = Number(r.frac)
    return {
      label: Number(r.label),
      point: Number(r.point),
      values: Number(r.n),
      mean: Number(r.mu),
      std: Number(r.sigma),
      max: Number(r.mx),
      threshold: Number(r[thresholdKey]),
      fraction,
      beneficial: fraction >= 0.05,
    }
  })
  return {variant, description, rows, beneficial: rows.filter((r) => r.beneficial).map((r) => r.label)}
}
