import type {ScoreReport} from '../../scoring/score-run.js'
import {scoreTable} from '../../scoring/score-table.js'

/** What `dlec score` prints: the run, the per-layer table, the DLEC rules' verdicts. */
export function renderScoreText(report: ScoreReport): string {
  return `${renderHeader(report)}\n${scoreTable(report)}\n${renderRules(report)}`
}

function renderHeader(r: ScoreReport): string {
  return `run ${r.run.name} (id ${r.run.runId}): ${r.run.model}, ${r.run.layers.length} layers, ${r.run.samples} samples, ${r.run.tokens} tokens (positions >= 1) from ${r.run.dataSource}; raw activations: ${r.run.raw}`
}

function renderRules(r: ScoreReport): string {
  const lines: string[] = []
  for (const rule of [r.dlecOriginal, r.dlecCorrected]) {
    if (rule === null) {
      continue
    }
    lines.push(`${rule.description}: beneficial ${rule.beneficial.length === 0 ? 'none' : rule.beneficial.join(', ')}`)
  }
  if (r.dlecOriginal === null) {
    lines.push('DLEC rules: no raw activations in this run (profile with --raw first-token or --raw sample:K)')
  } else if (r.dlecCorrected === null) {
    lines.push('corrected DLEC rule: needs activations at positions >= 1 (profile with --raw sample:K)')
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}
