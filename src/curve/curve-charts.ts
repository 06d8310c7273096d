import {formatCount, formatPercent, formatTick} from '../plot/axis.js'
import {drawLegend, drawPanel, seriesLegend, type LegendEntry, type XYSeries} from '../plot/line-chart.js'
import {seriesStyle, type ChartLayout, type SeriesStyle, type Shape} from '../plot/shapes.js'
import {formatDuplications, type Duplication} from './layer-plan.js'

/**
 * The chart of a measured curve: one panel each for mean KL, Δloss and top-1 agreement against the
 * added parameters (or added layers), one line per strategy with its own dash and hollow marker
 * (lines that coincide stay visible), shaded confidence bands where points carry intervals, the
 * chosen plan circled, and identity labelled as what it is. Pure.
 */
export interface CurveChartPoint {
  strategy: string
  added: number
  params: number
  measured: boolean
  kl: number
  lossDelta: number
  top1: number
  duplications: readonly Duplication[]
  /** Optional confidence intervals [lo, hi] of each metric (drawn as bands). */
  klCi?: readonly [number, number]
  lossDeltaCi?: readonly [number, number]
  top1Ci?: readonly [number, number]
}

export interface CurveChartInput {
  baseParams: number
  points: readonly CurveChartPoint[]
}

export interface CurveChartOptions {
  /** The plan to circle [default: chosenPoint(points)]; null marks none. */
  chosen?: {strategy: string; added: number} | null
  /** x axis: Δ parameters (default) or added layers. */
  x?: 'params' | 'layers'
}

type Metric = 'kl' | 'lossDelta' | 'top1'

const PANELS: Array<{metric: Metric; title: string; yLabel: string; format: (v: number) => string; yMax?: number; yZero?: boolean}> = [
  {metric: 'kl', title: 'mean KL(original ‖ expanded) per token', yLabel: 'mean KL (nats)', format: formatTick},
  {metric: 'lossDelta', title: 'Δloss against the original', yLabel: 'Δloss (nats / token)', format: (v) => (v > 0 ? `+${formatTick(v)}` : formatTick(v))},
  {metric: 'top1', title: 'top-1 agreement with the original', yLabel: 'top-1 agreement', format: formatPercent, yMax: 1, yZero: false},
]

export const IDENTITY_NOTE = '0 by construction; needs fine-tuning'

/** The default plan to mark: the measured point with the lowest KL at the largest size measured. */
export function chosenPoint<P extends CurveChartPoint>(points: readonly P[]): P | undefined {
  const measured = points.filter((p) => p.measured)
  const most = Math.max(...measured.map((p) => p.added))
  return measured.filter((p) => p.added === most).sort((a, b) => a.kl - b.kl)[0]
}

export function curveChart(report: CurveChartInput, options: CurveChartOptions = {}): ChartLayout {
  const byLayers = options.x === 'layers'
  const xOf = (p: Pick<CurveChartPoint, 'added' | 'params'>): number => (byLayers ? p.added : p.params - report.baseParams)
  const strategies = [...new Set(report.points.map((p) => p.strategy))]
  const styles = new Map<string, SeriesStyle>()
  let next = 0
  for (const name of strategies) {
    styles.set(name, name === 'identity' ? {color: '#7f7f7f', dash: '1 3', marker: 'cross'} : seriesStyle(next++))
  }
  const chosen = options.chosen === null ? undefined : options.chosen === undefined ? chosenPoint(report.points) : report.points.find((p) => p.strategy === options.chosen?.strategy && p.added === options.chosen.added)
  const xMax = Math.max(1, ...report.points.map(xOf))
  const perLayer = [...new Set(report.points.filter((p) => p.added > 0).map((p) => Math.round((p.params - report.baseParams) / p.added)))]
  const xLabel = byLayers ? 'added layers' : perLayer.length === 1 ? `Δ parameters (one added layer = +${formatCount(perLayer[0] as number)})` : 'Δ parameters'
  const width = 1280
  const panelW = 330
  const top = 76
  const panelH = 300
  const shapes: Shape[] = [
    {kind: 'text', x: width / 2, y: 28, text: `Expansion curve: quality against ${byLayers ? 'added layers' : 'added parameters'} (original: ${formatCount(report.baseParams)} parameters)`, anchor: 'middle', size: 16, color: '#222222', bold: true},
  ]
  for (const [i, panel] of PANELS.entries()) {
    const box = {left: 90 + i * (panelW + 95), top, width: panelW, height: panelH}
    const origin = panel.metric === 'top1' ? 1 : 0
    const series: XYSeries[] = strategies.map((name) => {
      const own = report.points.filter((p) => p.strategy === name).sort((a, b) => a.added - b.added)
      const banded = own.some((p) => ciOf(p, panel.metric) !== undefined)
      return {
        name,
        style: styles.get(name) as SeriesStyle,
        points: [{x: 0, y: origin, band: banded ? ([origin, origin] as const) : undefined}, ...own.map((p) => ({x: xOf(p), y: p[panel.metric], band: ciOf(p, panel.metric)}))],
      }
    })
    const drawn = drawPanel({box, title: panel.title, xLabel, yLabel: panel.yLabel, xDomain: [0, xMax], xFormat: byLayers ? (v) => String(v) : (v, d) => formatCount(v, d), xInteger: byLayers, yFormat: panel.format, yMax: panel.yMax, yZero: panel.yZero, series})
    shapes.push(...drawn.shapes)
    if (chosen !== undefined) {
      const cx = drawn.sx(xOf(chosen))
      const cy = drawn.sy(chosen[panel.metric])
      shapes.push({kind: 'circle', cx, cy, r: 12, fill: 'none', stroke: '#000000', strokeWidth: 2.5, tag: 'chosen'})
      if (i === 0) {
        shapes.push({kind: 'text', x: cx - 12, y: cy - 12, text: 'chosen', anchor: 'end', size: 11, color: '#000000', bold: true})
      }
    }
    const identity = report.points.filter((p) => p.strategy === 'identity')
    if (i === 0 && identity.length > 0) {
      shapes.push({kind: 'text', x: box.left + box.width - 4, y: drawn.sy(0) - 9, text: `identity: ${IDENTITY_NOTE}`, anchor: 'end', size: 11, color: '#555555', tag: 'identity-note'})
    }
  }
  const entries: LegendEntry[] = strategies.map((name) => seriesLegend(name === 'identity' ? `identity (${IDENTITY_NOTE})` : name, styles.get(name) as SeriesStyle))
  if (chosen !== undefined) {
    entries.push({
      label: `chosen: ${chosen.strategy} +${chosen.added} = ${formatDuplications(chosen.duplications)}${options.chosen === undefined ? ' (lowest KL at the largest size)' : ''}`,
      symbol: (x, y) => [{kind: 'circle', cx: x, cy: y, r: 8, fill: 'none', stroke: '#000000', strokeWidth: 2}],
    })
  }
  if (report.points.some((p) => p.klCi !== undefined || p.lossDeltaCi !== undefined || p.top1Ci !== undefined)) {
    entries.push({label: 'shaded: confidence interval', symbol: (x, y) => [{kind: 'polygon', points: [[x - 14, y - 6], [x + 14, y - 6], [x + 14, y + 6], [x - 14, y + 6]], fill: '#1f77b4', opacity: 0.15}]})
  }
  const legend = drawLegend(entries, 90, top + panelH + 72, width - 120)
  shapes.push(...legend.shapes)
  return {width, height: top + panelH + 72 + legend.height + 6, shapes}
}

function ciOf(p: CurveChartPoint, metric: Metric): readonly [number, number] | undefined {
  return metric === 'kl' ? p.klCi : metric === 'lossDelta' ? p.lossDeltaCi : p.top1Ci
}
