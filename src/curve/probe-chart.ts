import {formatPercent, formatTick} from '../plot/axis.js'
import {drawLegend, drawPanel, seriesLegend, type LegendEntry, type XYPoint, type XYSeries} from '../plot/line-chart.js'
import {seriesStyle, type ChartLayout, type SeriesStyle, type Shape} from '../plot/shapes.js'
import type {ProbeScore} from './probe-objective.js'

/**
 * The probe trade-off chart of a curve (`dlec curve --probe-plot`): probe accuracy against mean KL,
 * every measured candidate as a grey marker, each strategy's curve points joined in size order from
 * the original (KL 0, its own accuracy), Wilson intervals as shaded bands, and the --max-kl guard as
 * a dashed vertical line. Pure.
 */
export interface ProbeChartInput {
  points: readonly {strategy: string; added: number; measured: boolean; kl: number; probe?: ProbeScore}[]
  evaluations: readonly {measurement: {kl: number; probe?: ProbeScore}}[]
  probe?: {base: ProbeScore; maxKl?: number}
}

export function probeChart(report: ProbeChartInput): ChartLayout {
  const base = report.probe?.base
  const width = 900
  const box = {left: 100, top: 70, width: 700, height: 380}
  const shapes: Shape[] = [{kind: 'text', x: width / 2, y: 28, text: 'Probe accuracy against mean KL(original ‖ expanded): the trade-off', anchor: 'middle', size: 16, color: '#222222', bold: true}]
  const origin: XYPoint[] = base === undefined ? [] : [{x: 0, y: base.accuracy, band: base.ci}]
  const strategies = [...new Set(report.points.filter((p) => p.measured && p.probe !== undefined).map((p) => p.strategy))]
  const styles = new Map<string, SeriesStyle>(strategies.map((s, i) => [s, seriesStyle(i)]))
  // grey markers, never joined: a null between every two points breaks the line
  const candidates: XYSeries = {
    name: 'candidates',
    style: {color: '#b0b0b0', marker: 'circle', size: 3},
    points: report.evaluations.filter((e) => e.measurement.probe !== undefined).flatMap((e) => [{x: e.measurement.kl, y: (e.measurement.probe as ProbeScore).accuracy}, {x: e.measurement.kl, y: null}]),
  }
  const series: XYSeries[] = [
    candidates,
    ...strategies.map((name) => ({
      name,
      style: styles.get(name) as SeriesStyle,
      points: [
        ...origin,
        ...report.points
          .filter((p) => p.strategy === name && p.measured && p.probe !== undefined)
          .sort((a, b) => a.added - b.added)
          .map((p) => ({x: p.kl, y: (p.probe as ProbeScore).accuracy, band: (p.probe as ProbeScore).ci})),
      ],
    })),
  ]
  const kls = [...series.flatMap((s) => s.points.map((q) => q.x)), report.probe?.maxKl ?? 0]
  const drawn = drawPanel({box, xLabel: 'mean KL (nats per token)', yLabel: 'probe accuracy', xDomain: [0, Math.max(1e-6, ...kls) * 1.05], yFormat: formatPercent, xFormat: (v) => formatTick(v), yMax: 1, yZero: false, series})
  shapes.push(...drawn.shapes)
  const maxKl = report.probe?.maxKl
  if (maxKl !== undefined) {
    const x = drawn.sx(maxKl)
    shapes.push({kind: 'line', x1: x, y1: box.top, x2: x, y2: box.top + box.height, color: '#d62728', width: 1.5, dash: '6 4', tag: 'max-kl'})
    shapes.push({kind: 'text', x: x - 5, y: box.top + box.height - 8, text: `--max-kl ${maxKl}`, anchor: 'end', size: 11, color: '#d62728'})
  }
  const entries: LegendEntry[] = [seriesLegend('measured candidates', candidates.style), ...strategies.map((name) => seriesLegend(`${name} (from the original, by added layers)`, styles.get(name) as SeriesStyle))]
  entries.push({label: 'shaded: 95% Wilson interval', symbol: (x, y) => [{kind: 'polygon', points: [[x - 14, y - 6], [x + 14, y - 6], [x + 14, y + 6], [x - 14, y + 6]], fill: '#1f77b4', opacity: 0.15}]})
  const legend = drawLegend(entries, 100, box.top + box.height + 60, width - 140)
  shapes.push(...legend.shapes)
  return {width, height: box.top + box.height + 60 + legend.height + 6, shapes}
}
