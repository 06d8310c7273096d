import {measuredWith} from './weight-format.js'
import type {CurveReport} from '../../curve/expansion-curve.js'
import type {MeasuredCurve} from '../../curve/measure-curve.js'
import type {ProfileScores} from '../../curve/profile-scores.js'
import {formatDuplications} from '../../curve/layer-plan.js'
import {renderCurveChecks} from './holdout-report.js'

/**
 * The curve as a plain-text table for people (one row per strategy and size), plus a header line
 * with the original's loss and size. Pure.
 */
export function formatCurveTable(report: Pick<CurveReport, 'points' | 'baseLoss' | 'baseParams' | 'numLayers' | 'tokens'>): string[] {
  const header = ['strategy', '+layers', 'params', 'mean KL', 'Δloss', 'top-1', 'duplicated']
  const rows = report.points.map((p) => [
    p.strategy,
    `+${p.added}`,
    p.params.toLocaleString('en-US'),
    p.measured ? p.kl.toFixed(5) : '0 (identity)',
    p.measured ? `${p.lossDelta >= 0 ? '+' : ''}${p.lossDelta.toFixed(5)}` : '0',
    `${(100 * p.top1).toFixed(1)}%`,
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
  lines.push(...formatCurveTable(report))
  lines.push(...renderCurveChecks(report))
  lines.push(`${report.evaluations.length} distinct layer sequences measured; ${report.layersRun} layer runs in all; ${params.stored} rows stored in ${params.db}`)
  for (const [what, path] of params.charts) {
    if (path !== undefined) {
      lines.push(`wrote ${what} ${path}`)
    }
  }
  return lines
}
