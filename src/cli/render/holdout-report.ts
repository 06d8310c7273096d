import type {Interval} from '../../eval/bootstrap.js'
import type {CurvePoint} from '../../curve/expansion-curve.js'
import type {MeasuredCurve} from '../../curve/measure-curve.js'
import type {GuardFlag, ProbeScore} from '../../curve/probe-objective.js'
import {formatDuplications} from '../../curve/layer-plan.js'
import type {PlanReport} from '../../curve/plan-expansion.js'

/** Lines about the held-out re-check, the probe scores and the --max-kl flags of a curve or plan. Pure. */

const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(5)}`
const ci = (c: Interval | undefined, f: (x: number) => string): string => (c === undefined ? '' : ` [${f(c[0])}, ${f(c[1])}]`)
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`

export function renderProbeScore(p: ProbeScore): string {
  return `${pct(p.accuracy)} [${pct(p.ci[0])}, ${pct(p.ci[1])}] (${p.correct}/${p.items})`
}

/** One line per flagged candidate: its probe score beats the original's while its KL is over the guard. */
export function renderGuardFlags(flags: readonly GuardFlag[]): string[] {
  return flags.map((f) => `flagged     ${f.label}: probe ${pct(f.accuracy)} > original ${pct(f.baseAccuracy)} but mean KL ${f.kl.toFixed(5)} > --max-kl ${f.maxKl} (excluded)`)
}

/** The held-out figure of each measured point, and each point's probe score. */
export function renderCurveChecks(report: Pick<MeasuredCurve, 'points' | 'holdout' | 'probe' | 'flagged'>): string[] {
  const lines: string[] = []
  const measured = report.points.filter((p) => p.measured)
  if (report.holdout !== undefined) {
    const h = report.holdout
    lines.push(`held-out re-check on ${h.source}: ${h.texts} texts, ${h.tokens} predicted tokens, original loss ${h.baseLoss.toFixed(5)} (95% bootstrap intervals over ${h.rows} rows)`)
    for (const p of measured) {
      if (p.holdout !== undefined) {
        lines.push(`  ${pointLabel(p)}  mean KL ${p.holdout.kl.toFixed(5)}${ci(p.holdout.klCi, (x) => x.toFixed(5))}   Δloss ${signed(p.holdout.lossDelta)}${ci(p.holdout.lossDeltaCi, signed)}   top-1 ${pct(p.holdout.top1)}${ci(p.holdout.top1Ci, pct)}`)
      }
    }
  }
  if (report.probe !== undefined) {
    lines.push(`probe accuracy (95% Wilson intervals): original ${renderProbeScore(report.probe.base)}${report.probe.maxKl === undefined ? '' : `; guard --max-kl ${report.probe.maxKl}`}`)
    for (const p of measured) {
      if (p.probe !== undefined) {
        lines.push(`  ${pointLabel(p)}  probe ${renderProbeScore(p.probe)}   mean KL ${p.kl.toFixed(5)}`)
      }
    }
    lines.push(...renderGuardFlags(report.flagged ?? []))
  }
  return lines
}

function pointLabel(p: CurvePoint): string {
  return `${p.strategy} +${p.added} ${formatDuplications(p.duplications)}`
}

/** The plan's quality line(s): the held-out figure with its intervals when there is one, then the selection figure. */
export function renderPlanChecks(r: PlanReport): string[] {
  const lines: string[] = []
  if (r.holdout !== undefined) {
    const h = r.holdout
    lines.push(`quality     held-out: mean KL ${h.kl.toFixed(5)}${ci(h.klCi, (x) => x.toFixed(5))}   Δloss ${signed(h.lossDelta)}${ci(h.lossDeltaCi, signed)}   loss ${h.loss.toFixed(5)}   top-1 ${pct(h.top1)}${ci(h.top1Ci, pct)} (${h.source}: ${h.tokens} tokens, 95% bootstrap)`)
  }
  if (r.probe !== undefined) {
    lines.push(`probe       ${renderProbeScore(r.probe.plan)} (original ${renderProbeScore(r.probe.base)})`)
  }
  lines.push(...renderGuardFlags(r.flagged ?? []))
  return lines
}
