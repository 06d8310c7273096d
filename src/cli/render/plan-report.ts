import type {PlanReport} from '../../curve/plan-expansion.js'
import {formatDuplications, formatLayerSequence} from '../../curve/layer-plan.js'
import {fmt} from '../../curve/target-size.js'
import {measuredWith} from './weight-format.js'
import {formatRacing, formatTies} from './curve-table.js'

/** The lines `dlec plan` and `dlec expand` print about a plan: what is duplicated, the sequence, the size. */
export function renderPlanLines(r: PlanReport, options: {identityNote?: boolean} = {}): string[] {
  const scaled = r.alpha === undefined || r.alpha === 0 ? 'identity copies: output projections scaled by 0' : `soft copies: output projections scaled by α ${r.alpha}`
  const note = (r.identityCopies || r.alpha !== undefined) && options.identityNote !== false ? ` (${scaled})` : ''
  return [
    `strategy    ${r.strategy}: duplicates ${formatDuplications(r.duplications)}${note}`,
    `layers      ${r.layers.length} (was ${r.layers.length - r.target.addLayers}): ${formatLayerSequence(r.layers)}`,
    `parameters  ${fmt(r.paramsBefore)} -> ${fmt(r.paramsAfter)}`,
    ...(r.weightFormat === undefined ? [] : [`weights     ${measuredWith(r.weightFormat)}`]),
  ]
}

/** Mean KL, loss change (and loss) and top-1 of a plan, with how they were obtained when `how` is given. */
export function renderPlanQuality(r: PlanReport, how?: string): string {
  const loss = how !== undefined && r.loss !== undefined ? `   loss ${r.loss.toFixed(5)}` : ''
  const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(5)}`
  const ci = (c: readonly [number, number] | undefined, f: (v: number) => string): string => (c === undefined ? '' : ` [${f(c[0])}, ${f(c[1])}]`)
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`
  return `mean KL ${r.kl.toFixed(5)}${ci(r.klCi, (v) => v.toFixed(5))}   Δloss ${signed(r.lossDelta)}${ci(r.lossDeltaCi, signed)}${loss}   top-1 ${pct(r.top1)}${ci(r.top1Ci, pct)}${how === undefined ? '' : ` (${how})`}`
}

/** The within-noise line (when the runner-up could not be told apart) and the racing line of a measured plan. */
export function renderPlanNotes(r: PlanReport): string[] {
  return [...(r.tie ? formatTies([r.tie]) : []), ...(r.racing ? [formatRacing(r.racing, r.racing.layersRun)] : [])]
}
