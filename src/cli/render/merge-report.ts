import type {ExpandReport} from '../../expand/expand-model.js'
import type {MergeReport} from '../../merge/merge-model.js'
import {renderPlanChecks} from './holdout-report.js'
import {renderPlanLines, renderPlanQuality} from './plan-report.js'
import {formatBytes} from './format-bytes.js'

/** Human lines for `dlec merge`: the engine and why, then the copy plan (dry run) or what was written. */
export function renderMergeReport(report: MergeReport): string[] {
  const lines = [`Engine: ${report.engine} (${report.engineReason})`]
  if (report.dryRun) {
    const rows = report.plan ?? []
    const width = Math.max(6, ...rows.map((r) => r.output.length))
    lines.push(`Plan: ${report.layers} layers, ${report.tensors} tensors, ${formatBytes(report.bytes)} -> ${report.out} (dry run: nothing written)`)
    for (const r of rows) {
      const scale = r.scale === undefined ? '' : ` scale=${r.scale}`
      const from = r.source === r.output ? '' : ` <- ${r.source}`
      lines.push(`  ${r.output.padEnd(width)}  ${r.dtype.padEnd(9)} ${r.shard}${from}${scale}  [${r.model}]`)
    }
    lines.push(`Files: ${report.files.join(', ')}`)
    return lines
  }
  const rate = report.bytes > 0 && report.seconds > 0 ? `, ${formatBytes(report.bytes / report.seconds)}/s` : ''
  const size = report.bytes > 0 ? `, ${report.tensors} tensors, ${formatBytes(report.bytes)}` : ''
  lines.push(`Wrote ${report.out}: ${report.layers} layers${size} in ${report.seconds.toFixed(1)} s${rate}`)
  lines.push(`Files: ${report.files.join(', ')}`)
  return lines
}

/** Human lines for `dlec expand`: the plan, the merge, and the check of the merged folder. */
export function renderExpandReport(r: ExpandReport): string[] {
  const {plan, merge, check} = r
  const lines = [...renderPlanLines(plan, {identityNote: false}), `plan        ${renderPlanQuality(plan)}${plan.holdout === undefined ? '' : ' (selection part)'}`, ...renderPlanChecks(plan), ...renderMergeReport(merge)]
  if (check) {
    // Below 1e-12 the two losses differ only by the order of float additions (the bytes are the same).
    const gap = check.planLossError === undefined ? undefined : check.planLossError < 1e-12 ? '< 1e-12' : check.planLossError.toExponential(1)
    const err = gap === undefined ? '' : `   |Δ vs plan| ${gap}`
    lines.push(`check       merged model loss ${check.loss.toFixed(5)}   perplexity ${check.perplexity.toFixed(3)} on ${check.tokens} tokens${err}`)
  }
  return lines
}
