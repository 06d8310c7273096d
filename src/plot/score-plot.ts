import type {ScoreReport} from '../scoring/score-run.js'
import {layoutLineChart, seriesColor} from './line-chart.js'
import type {ChartLayout} from './line-chart.js'

/** The score chart: Block Influence, angular distance of 1-, 2- and 4-layer blocks over depth, DLEC's flagged layers. */
export function scoreChart(report: ScoreReport): ChartLayout {
  const x = report.layers.map((r) => r.layer)
  const series = [
    {name: 'block influence', values: report.layers.map((r) => r.blockInfluence), color: seriesColor(0)},
    ...[1, 2, 4]
      .filter((n) => report.layers.some((r) => r.angular[n - 1] !== null))
      .map((n, i) => ({name: `angular [l, l+${n})`, values: report.layers.map((r) => r.angular[n - 1] ?? null), color: seriesColor(i + 1)})),
  ]
  const flagged = report.layers.filter((r) => r.dlecOriginal === true).map((r) => r.layer)
  return layoutLineChart({
    title: `Layer scores: ${report.run.name} (${report.run.samples} samples, ${report.run.tokens} tokens)`,
    xLabel: 'layer (position in the profiled sequence)',
    yLabel: 'score',
    x,
    series,
    marks: report.dlecOriginal === null ? undefined : {x: flagged, label: 'original DLEC rule', color: '#ff7f0e80'},
  })
}
