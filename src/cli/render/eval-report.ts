import type {EvalReport} from '../../eval/evaluate.js'

/** `2` -> `2[attn*0,mlp*0]` for a scaled copy. */
function scaleMark(s: {attn?: number; mlp?: number} | undefined): string {
  if (s === undefined) {
    return ''
  }
  return `[attn*${s.attn ?? 1},mlp*${s.mlp ?? 1}]`
}

export function renderEval(r: EvalReport, model: string, base?: string): string[] {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`
  const sign = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`
  const lines = [
    `model      ${model} (${r.numLayers} layers)`,
    `layers     ${r.layers.map((l, i) => l + scaleMark(r.scales?.[i])).join(',')} (${r.layers.length} layers)`,
    `weights    ${r.weightFormat.format} (${r.weightFormat.reason})`,
    `data       ${r.texts} text(s), ${r.rows} row(s) of up to ${r.windowSize} tokens, ${r.tokens} predicted tokens`,
  ]
  if (r.chunkedTexts > 0) {
    lines.push(`           ${r.chunkedTexts} text(s) longer than ${r.windowSize} tokens were chunked (each window starts again with BOS)`)
  }
  if (r.truncated) {
    lines.push('           stopped at --max-tokens')
  }
  lines.push(`loss       ${r.loss.toFixed(4)} nats/token   perplexity ${r.perplexity.toFixed(3)}`)
  lines.push(`${base === undefined ? 'original ' : 'base     '}  ${r.original.loss.toFixed(4)} nats/token   perplexity ${r.original.perplexity.toFixed(3)}${base === undefined ? '' : `   (${base})`}`)
  lines.push(`vs ${base === undefined ? 'original' : 'base'}: mean KL ${r.meanKl.toFixed(4)}   top-1 agreement ${pct(r.top1Agreement)}   loss ${sign(r.lossDelta)}`)
  if (r.probe) {
    lines.push(`probe      ${r.probe.candidate.items} items: accuracy ${pct(r.probe.candidate.accuracy)} (norm ${pct(r.probe.candidate.accuracyNorm)}); original ${pct(r.probe.original.accuracy)} (norm ${pct(r.probe.original.accuracyNorm)})`)
  }
  return lines
}
