import type {PlanReport} from '../../curve/plan-expansion.js'
import {formatDuplications, formatLayerSequence} from '../../curve/layer-plan.js'
import {fmt} from '../../curve/target-size.js'
import {measuredWith} from './weight-format.js'

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
  return `mean KL ${r.kl.toFixed(5)}   Δloss ${r.lossDelta >= 0 ? '+' : ''}${r.lossDelta.toFixed(5)}${loss}   top-1 ${(100 * r.top1).toFixed(1)}%${how === undefined ? '' : ` (${how})`}`
}
