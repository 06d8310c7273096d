import {seededRandom} from '../util/seeded-random.js'

export {seededRandom}
/**
 * Paired bootstrap intervals of per-token means, resampling evaluation rows. Pure.
 *
 * A measurement keeps, per row (one window of a text), the sums over its predicted tokens of the
 * KL, the loss change, the NLL and the top-1 agreements, plus its token count. A resample draws the
 * rows with replacement (`counts[r]` = how often row r was drawn) and recomputes each mean as a
 * ratio, Σ counts·sum / Σ counts·tokens, so long rows weigh as they do in the point estimate. The
 * interval is the percentile interval of the resampled means (linear interpolation between order
 * statistics). Rows rather than tokens are the unit because tokens of one text are correlated.
 * Coverage (test/eval/bootstrap.test.ts, seeded simulation): about 95% on 60 rows of skewed
 * per-token values; on strongly heterogeneous rows (row means with a coefficient of variation of
 * 0.7) it is about 91% at 20-60 rows and 93-94% at 200 (BCa did no better there).
 *
 * The resamples depend only on (rows, resamples, seed): every candidate measured on the same rows is
 * resampled with the same draws, so the difference of two candidates gets its own, paired,
 * interval (much narrower than the two intervals suggest when the candidates err on the same rows).
 */
export type Interval = [number, number]

/** Sums over the predicted tokens of each evaluation row. */
export interface RowSums {
  tokens: number[]
  /** Σ KL(reference || candidate). */
  kl: number[]
  /** Σ -log p(next token) under the candidate. */
  nll: number[]
  /** Σ (candidate NLL - reference NLL). */
  dLoss: number[]
  /** Predictions whose argmax equals the reference's. */
  agree: number[]
}

export type RowMetric = 'kl' | 'dLoss' | 'agree' | 'nll'

export interface BootstrapOptions {
  /** Resamples (default 1000). */
  resamples?: number
  /** Seed of the resampling (default 0). */
  seed?: number
  /** Coverage of the intervals (default 0.95). */
  level?: number
}

export interface ResamplePlan {
  rows: number
  resamples: number
  seed: number
  level: number
  /** counts[b][r]: how often resample b drew row r. */
  counts: Uint32Array[]
}

export const DEFAULT_RESAMPLES = 1000


const plans = new Map<string, ResamplePlan>()

/** The resamples of `rows` rows for these options (memoised: every caller gets the same draws). */
export function resamplePlan(rows: number, options: BootstrapOptions = {}): ResamplePlan {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES
  const seed = options.seed ?? 0
  const level = options.level ?? 0.95
  const key = `${rows}:${resamples}:${seed}:${level}`
  const known = plans.get(key)
  if (known) {
    return known
  }
  // the stream depends on the row count too, so a slice of the rows is not a prefix of the full draws
  const random = seededRandom((seed * 1_000_003 + rows) >>> 0)
  const counts: Uint32Array[] = []
  for (let b = 0; b < resamples; b++) {
    const c = new Uint32Array(rows)
    for (let i = 0; i < rows; i++) {
      c[Math.floor(random() * rows)]++
    }
    counts.push(c)
  }
  const plan = {rows, resamples, seed, level, counts}
  if (plans.size > 16) {
    plans.clear()
  }
  plans.set(key, plan)
  return plan
}

/** The percentile interval of `values` at `level` (type 7 quantiles). */
export function percentileInterval(values: readonly number[], level: number): Interval {
  const sorted = [...values].sort((a, b) => a - b)
  const q = (p: number): number => {
    const h = (sorted.length - 1) * p
    const lo = Math.floor(h)
    const hi = Math.min(sorted.length - 1, lo + 1)
    return (sorted[lo] as number) + (h - lo) * ((sorted[hi] as number) - (sorted[lo] as number))
  }
  const alpha = (1 - level) / 2
  return [q(alpha), q(1 - alpha)]
}

function checkRows(sums: RowSums, plan: ResamplePlan): void {
  if (sums.tokens.length !== plan.rows) {
    throw new RangeError(`bootstrap: ${sums.tokens.length} rows measured but the resamples are of ${plan.rows}`)
  }
}

/** The resampled means of one metric. */
export function resampledMeans(sums: RowSums, metric: RowMetric, plan: ResamplePlan): number[] {
  checkRows(sums, plan)
  const num = sums[metric]
  return plan.counts.map((c) => {
    let n = 0
    let d = 0
    for (let r = 0; r < plan.rows; r++) {
      const k = c[r] as number
      if (k !== 0) {
        n += k * (num[r] as number)
        d += k * (sums.tokens[r] as number)
      }
    }
    return n / d
  })
}

/** The bootstrap interval of the per-token mean of one metric. */
export function meanInterval(sums: RowSums, metric: RowMetric, plan: ResamplePlan, level = plan.level): Interval {
  return percentileInterval(resampledMeans(sums, metric, plan), level)
}

/** The paired interval of mean(a) - mean(b) over the same rows and the same resamples. */
export function pairedDifferenceInterval(a: RowSums, b: RowSums, metric: RowMetric, plan: ResamplePlan, level = plan.level): Interval {
  const ma = resampledMeans(a, metric, plan)
  const mb = resampledMeans(b, metric, plan)
  return percentileInterval(
    ma.map((x, i) => x - (mb[i] as number)),
    level,
  )
}

/** The point estimate: Σ sum / Σ tokens. */
export function rowMean(sums: RowSums, metric: RowMetric): number {
  let n = 0
  let d = 0
  for (const [r, t] of sums.tokens.entries()) {
    n += sums[metric][r] as number
    d += t
  }
  return n / d
}

/** Rows [from, to) of a measurement. */
export function sliceRows(sums: RowSums, from: number, to: number): RowSums {
  return {
    tokens: sums.tokens.slice(from, to),
    kl: sums.kl.slice(from, to),
    nll: sums.nll.slice(from, to),
    dLoss: sums.dLoss.slice(from, to),
    agree: sums.agree.slice(from, to),
  }
}

/** Two measurements of consecutive rows, as one. */
export function concatRows(a: RowSums, b: RowSums): RowSums {
  return {
    tokens: [...a.tokens, ...b.tokens],
    kl: [...a.kl, ...b.kl],
    nll: [...a.nll, ...b.nll],
    dLoss: [...a.dLoss, ...b.dLoss],
    agree: [...a.agree, ...b.agree],
  }
}

export function emptyRows(): RowSums {
  return {tokens: [], kl: [], nll: [], dLoss: [], agree: []}
}
