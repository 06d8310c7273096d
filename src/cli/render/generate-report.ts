import type {GenerateReport} from '../../generate/generate.js'

/** The summary `dlec generate` prints to stderr after the text: tokens, how they were picked, speed. */
export function renderGenerateReport(report: GenerateReport): string[] {
  const s = report.sampling
  const how = s.temperature === 0 ? 'greedy' : `temperature ${s.temperature}${s.topK === undefined ? '' : `, top-k ${s.topK}`}, seed ${s.seed}`
  return [
    `${report.tokens.length} tokens (${report.stopReason}), ${how}, layers ${report.layers.join(',')}: ${report.tokensPerSecond.toFixed(1)} tokens/s (prompt ${report.promptIds.length} tokens in ${(report.promptSeconds * 1000).toFixed(0)} ms)`,
  ]
}
