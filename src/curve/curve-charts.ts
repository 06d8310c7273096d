import {layoutLineChart, seriesColor, type ChartLayout, type Shape} from '../plot/line-chart.js'
import type {CurveReport} from '../scoring/expansion-curve.js'

/**
 * Chart layouts of a measured curve (drawn by src/plot's SVG / PNG writers, no browser): quality
 * against parameters with one line per strategy, and the RYS-style heat-map of the measured effect
 * of duplicating each block [i, j). Pure.
 */
export function curveChart(report: Pick<CurveReport, 'points' | 'baseParams'>, metric: 'kl' | 'lossDelta' = 'kl'): ChartLayout {
  const x = [...new Set([report.baseParams, ...report.points.map((p) => p.params)])].sort((a, b) => a - b)
  const strategies = [...new Set(report.points.map((p) => p.strategy))]
  const series = strategies.map((name, i) => ({
    name,
    color: seriesColor(i),
    values: x.map((params) => {
      if (params === report.baseParams) {
        return 0
      }
      const p = report.points.find((q) => q.strategy === name && q.params === params)
      return p === undefined ? null : p[metric]
    }),
  }))
  return layoutLineChart({
    title: metric === 'kl' ? 'Expansion curve: mean KL(original, expanded) per token' : 'Expansion curve: loss change (nats / token)',
    xLabel: 'parameters',
    yLabel: metric === 'kl' ? 'mean KL' : 'Δloss',
    x,
    series,
  })
}

/** Cell colour: pale pink (lowest) to dark red (highest) on a square-root scale. */
function heat(v: number, lo: number, hi: number): string {
  const t = hi > lo ? Math.sqrt(Math.min(1, Math.max(0, (v - lo) / (hi - lo)))) : 0
  const c = (a: number, b: number): string => Math.round(a + (b - a) * t).toString(16).padStart(2, '0')
  return `#${c(253, 165)}${c(224, 15)}${c(221, 21)}`
}

export function blockHeatmap(report: Pick<CurveReport, 'blocks' | 'numLayers'>, metric: 'kl' | 'lossDelta' = 'kl'): ChartLayout {
  const n = report.numLayers
  const cell = Math.max(10, Math.min(36, Math.floor(560 / n)))
  const left = 90
  const top = 60
  const width = Math.max(640, left + cell * n + 140)
  const height = top + cell * n + 70
  const shapes: Shape[] = []
  const text = (x: number, y: number, s: string, anchor: 'start' | 'middle' | 'end', size = 11): void => {
    shapes.push({kind: 'text', x, y, text: s, anchor, size, color: '#222222'})
  }
  text(width / 2, 24, `Block [i, j) run twice: measured ${metric === 'kl' ? 'mean KL' : 'loss change'}`, 'middle', 14)
  const values = report.blocks.map((b) => b[metric])
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  for (const b of report.blocks) {
    const x = left + (b.end - 1) * cell
    const y = top + b.start * cell
    // a filled cell as 2-px strips: exact in SVG (butt caps), at most 1 px over in the PNG rasteriser
    for (let dy = 1; dy < cell; dy += 2) {
      shapes.push({kind: 'line', x1: x + 1, y1: y + dy, x2: x + cell - 1, y2: y + dy, color: heat(b[metric], lo, hi), width: 2})
    }
  }
  for (let k = 0; k <= n; k++) {
    shapes.push({kind: 'line', x1: left, y1: top + k * cell, x2: left + n * cell, y2: top + k * cell, color: '#dddddd', width: 1})
    shapes.push({kind: 'line', x1: left + k * cell, y1: top, x2: left + k * cell, y2: top + n * cell, color: '#dddddd', width: 1})
  }
  const every = Math.max(1, Math.ceil(n / 16))
  for (let k = 0; k < n; k += every) {
    text(left - 6, top + k * cell + cell / 2 + 4, String(k), 'end', 10)
    text(left + k * cell + cell / 2, top + n * cell + 16, String(k + 1), 'middle', 10)
  }
  text(left + (n * cell) / 2, top + n * cell + 40, 'end j (exclusive)', 'middle')
  text(14, top - 12, 'start i', 'start')
  const legendX = left + n * cell + 30
  for (let s = 0; s <= 10; s++) {
    const v = hi - ((hi - lo) * s) / 10
    for (let dy = 1; dy < 14; dy += 2) {
      shapes.push({kind: 'line', x1: legendX + 1, y1: top + s * 14 + dy, x2: legendX + 17, y2: top + s * 14 + dy, color: heat(v, lo, hi), width: 2})
    }
  }
  text(legendX + 24, top + 11, values.length > 0 ? hi.toPrecision(3) : '-', 'start', 10)
  text(legendX + 24, top + 10 * 14 + 11, values.length > 0 ? lo.toPrecision(3) : '-', 'start', 10)
  return {width, height, shapes}
}
