import {measuredWith} from './weight-format.js'
import type {CurvePoint, CurveReport, NoiseTie, RacingSummary} from '../../curve/expansion-curve.js'
import type {MeasuredCurve} from '../../curve/measure-curve.js'
import type {StoredCurve} from '../../curve/curve-store.js'
import type {ProfileScores} from '../../curve/profile-scores.js'
import {formatDuplications} from '../../curve/layer-plan.js'
import {renderCurveChecks} from './holdout-report.js'

/**
 * The curve as a plain-text table for people (one row per strategy and size), plus a header line
 * with the original's loss and size. Pure.
 */
export function formatCurveTable(report: Pick<CurveReport, 'points' | 'baseLoss' | 'baseParams' | 'numLayers' | 'tokens'>): string[] {
  const banded = report.points.some((p) => p.klCi !== undefined)
  const header = ['strategy', '+layers', 'params', 'mean KL', ...(banded ? ['KL 95% CI'] : []), 'Δloss', ...(banded ? ['Δloss 95% CI'] : []), 'top-1', ...(banded ? ['top-1 95% CI'] : []), 'duplicated']
  const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(5)}`
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`
  const ci = (p: CurvePoint, which: 'klCi' | 'lossDeltaCi' | 'top1Ci', f: (v: number) => string): string[] => {
    if (!banded) {
      return []
    }
    const c = p[which]
    return [c === undefined ? '-' : `[${f(c[0])}, ${f(c[1])}]`]
  }
  const rows = report.points.map((p) => [
    p.strategy,
    `+${p.added}`,
    p.params.toLocaleString('en-US'),
    p.measured ? p.kl.toFixed(5) : '0 (identity)',
    ...ci(p, 'klCi', (v) => v.toFixed(5)),
    p.measured ? signed(p.lossDelta) : '0',
    ...ci(p, 'lossDeltaCi', signed),
    pct(p.top1),
    ...ci(p, 'top1Ci', pct),
    `${formatDuplications(p.duplications)}${p.alpha === undefined ? '' : ` (α ${p.alpha})`}`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [
    `original: ${report.numLayers} layers, ${report.baseParams.toLocaleString('en-US')} parameters, loss ${report.baseLoss.toFixed(5)} on ${report.tokens} predicted tokens`,
    line(header),
    ...rows.map(line),
  ]
}

/** One line per level whose pick is within noise: the best and the runner-up, and their paired difference interval. */
export function formatTies(ties: readonly NoiseTie[]): string[] {
  // strategies that made the same tied choice share one line
  const lines = new Map<string, {strategies: string[]; tie: NoiseTie}>()
  for (const t of ties) {
    const key = `${t.added}:${formatDuplications(t.best.duplications)}:${formatDuplications(t.runnerUp.duplications)}`
    const known = lines.get(key)
    if (known) {
      known.strategies.push(t.strategy)
    } else {
      lines.set(key, {strategies: [t.strategy], tie: t})
    }
  }
  return [...lines.values()].map(({strategies, tie: t}) => {
    const what = t.objective === 'kl' ? 'mean KL' : 'Δloss'
    const d = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(5)}`
    return `within noise: ${strategies.join(', ')} +${t.added} picked ${formatDuplications(t.best.duplications)} (${what} ${t.best.value.toFixed(5)}) over ${formatDuplications(t.runnerUp.duplications)} (${t.runnerUp.value.toFixed(5)}); their paired 95% difference interval [${d(t.difference[0])}, ${d(t.difference[1])}] contains 0`
  })
}

/** The racing line: layer runs used and (estimated) saved, or that every candidate was measured in full. */
export function formatRacing(racing: RacingSummary, layersRun: number): string {
  if (!racing.enabled) {
    return `racing off (--no-racing): every candidate measured on all rows; ${layersRun} layer runs`
  }
  return `racing: ${racing.dropped} candidate(s) dropped early as clearly worse; ${layersRun} layer runs used, about ${racing.layerRunsSaved} saved against the full sweep`
}

/** What `dlec curve` prints: where the scores came from, the table, the work done, the files written. */
export function renderCurveReport(params: {
  report: MeasuredCurve
  scores?: ProfileScores
  stored: number
  db: string
  charts: (readonly [string, string | undefined])[]
}): string[] {
  const {report, scores} = params
  const lines: string[] = [measuredWith(report.weightFormat)]
  if (scores) {
    lines.push(`scores from profile run ${scores.run}${scores.blockInfluence ? ' (Block Influence)' : ''}${scores.dlecFlagged ? ' (original DLEC rule)' : ''}`)
  }
  if (report.chunkedTexts > 0) {
    lines.push(`${report.chunkedTexts} text(s) longer than ${report.windowSize} tokens were chunked`)
  }
  lines.push(...curveSummaryLines(report))
  lines.push(...renderCurveChecks(report))
  const reused = report.reused > 0 ? ` (${report.reused} reused from ${params.db})` : ''
  lines.push(`${report.evaluations.length} distinct layer sequences measured${reused}; ${report.layersRun} layer runs in all; ${params.stored} rows stored in ${params.db}`)
  for (const [what, path] of params.charts) {
    if (path !== undefined) {
      lines.push(`wrote ${what} ${path}`)
    }
  }
  return lines
}

/** What `dlec curve --from-db` prints: the stored table, ties, intervals and racing lines, the files written. */
export function renderStoredCurve(params: {report: StoredCurve; db: string; charts: (readonly [string, string | undefined])[]}): string[] {
  const {report} = params
  const lines = [`from ${params.db} (nothing measured)`, ...curveSummaryLines(report)]
  lines.push(`${report.evaluations.length} distinct layer sequences stored; ${report.layersRun} layer runs when measured`)
  for (const [what, path] of params.charts) {
    if (path !== undefined) {
      lines.push(`wrote ${what} ${path}`)
    }
  }
  return lines
}

/** The table, the within-noise lines, the intervals line and the racing line (shared by a measured and a stored curve). */
export function curveSummaryLines(report: Pick<CurveReport, 'points' | 'baseLoss' | 'baseParams' | 'numLayers' | 'tokens' | 'ties' | 'rowCount' | 'bootstrap' | 'racing' | 'layersRun'>): string[] {
  return [
    ...formatCurveTable(report),
    ...formatTies(report.ties),
    `intervals: 95% paired bootstrap over the ${report.rowCount} rows (windows of texts), ${report.bootstrap.resamples} resamples, seed ${report.bootstrap.seed}`,
    formatRacing(report.racing, report.layersRun),
  ]
}
