import type {ScoreReport} from '../scoring/score-run.js'
import {layoutLineChart} from './line-chart.js'
import {seriesStyle, type ChartLayout} from './shapes.js'

/**
 * The score chart: Block Influence and the angular distance of 1-, 2- and 4-layer blocks over
 * depth, and the layers the DLEC rules flag. The original rule's labels are transformers'
 * hidden_states ids (h0 = the embeddings, h_k = the output of layer k-1), so its marks sit on the
 * boundaries between layers (x = k - 0.5), labelled h_k; the corrected rule's are layer ids.
 */
export function scoreChart(report: ScoreReport): ChartLayout {
  const x = report.layers.map((r) => r.layer)
  const series = [
    {name: 'block influence', values: report.layers.map((r) => r.blockInfluence)},
    ...[1, 2, 4]
      .filter((n) => report.layers.some((r) => r.angular[n - 1] !== null))
      .map((n) => ({name: `angular distance [l, l+${n})`, values: report.layers.map((r) => r.angular[n - 1] ?? null)})),
  ]
  const marks = []
  if (report.dlecOriginal !== null) {
    marks.push({
      name: 'original DLEC rule: flags hidden_states h_k (h0 = embeddings, h_k = output of layer k-1)',
      style: {...seriesStyle(4), marker: 'triangle' as const},
      points: report.dlecOriginal.beneficial.map((k) => ({x: k - 0.5, y: 0, label: `h${k}`})),
    })
  }
  if (report.dlecCorrected !== null) {
    marks.push({
      name: 'corrected DLEC rule: flags layer l',
      style: {...seriesStyle(5), marker: 'diamond' as const},
      points: report.dlecCorrected.beneficial.map((l) => ({x: l, y: report.layers.find((r) => r.layer === l)?.blockInfluence ?? 0})),
    })
  }
  const last = Math.max(0, ...x)
  return layoutLineChart({
    title: `Layer scores: ${report.run.name} (${report.run.samples} samples, ${report.run.tokens} tokens)`,
    xLabel: 'layer l (position in the profiled sequence)',
    yLabel: 'score',
    x,
    series,
    marks,
    xDomain: report.dlecOriginal === null ? [0, last] : [-1, last + 1],
    xInteger: true,
    xTickRange: [0, last],
  })
}
