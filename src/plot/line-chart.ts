import {fitTicks, formatTick, niceTicks, textWidth} from './axis.js'
import {marker, seriesStyle, type ChartLayout, type SeriesStyle, type Shape} from './shapes.js'

/**
 * Line-chart panels as plain geometry: axes with nice ticks whose labels do not collide, one
 * polyline per unbroken run of a series (dashed per its style), hollow markers, optional shaded
 * interval bands, and a legend. No browser, no dependencies.
 */
export interface XYPoint {
  x: number
  y: number | null
  /** A [lo, hi] interval drawn as a shaded band around the line. */
  band?: readonly [number, number]
}

export interface XYSeries {
  name: string
  style: SeriesStyle
  points: readonly XYPoint[]
}

export interface Box {
  left: number
  top: number
  width: number
  height: number
}

export interface PanelParams {
  box: Box
  title?: string
  xLabel?: string
  yLabel?: string
  xDomain?: readonly [number, number]
  xFormat?: (v: number, digits: number) => string
  /** Only whole-number x ticks (layer indices). */
  xInteger?: boolean
  /** Only x ticks inside this range [default: the domain]. */
  xTickRange?: readonly [number, number]
  yFormat?: (v: number) => string
  /** Largest y tick (e.g. 1 for a share). */
  yMax?: number
  /** Keep 0 on the y axis (default true). */
  yZero?: boolean
  series: readonly XYSeries[]
}

export interface Panel {
  shapes: Shape[]
  sx: (x: number) => number
  sy: (y: number) => number
}

const AXIS = '#333333'
const GRID = '#e6e6e6'
const TICK_SIZE = 11

export function drawPanel(p: PanelParams): Panel {
  const {box} = p
  const right = box.left + box.width
  const bottom = box.top + box.height
  const ys = p.series.flatMap((s) => s.points.flatMap((q) => [q.y, ...(q.band ?? [])])).filter((v): v is number => v !== null && Number.isFinite(v))
  let lo = p.yZero === false ? Math.min(...ys) : Math.min(0, ...ys)
  let hi = Math.max(...ys, lo)
  if (hi - lo < 1e-9) {
    lo = p.yZero === false ? lo - Math.max(Math.abs(lo) * 0.1, 1e-3) : lo
    hi = hi + (p.yZero === false ? 0 : Math.max(Math.abs(hi) * 0.1, 1e-3))
  }
  const yTicks = niceTicks(lo, hi, 5).filter((t) => p.yMax === undefined || t <= p.yMax + 1e-12)
  lo = Math.min(lo, yTicks[0] ?? lo)
  hi = Math.max(hi, yTicks[yTicks.length - 1] ?? hi)
  const xs = p.series.flatMap((s) => s.points.map((q) => q.x))
  const [dLo, dHi] = p.xDomain ?? [Math.min(...xs), Math.max(...xs)]
  const xFormat = p.xFormat ?? ((v: number) => formatTick(v))
  const fitted = fitTicks({lo: dLo, hi: dHi > dLo ? dHi : dLo + 1, pixels: box.width, format: xFormat, size: TICK_SIZE})
  const xLo = dLo
  const xHi = Math.max(dHi, xLo + 1e-9)
  const xTickPairs = fitted.ticks
    .map((t, i) => [t, fitted.labels[i] as string] as const)
    .filter(([t]) => (p.xInteger !== true || Number.isInteger(t)) && t >= (p.xTickRange?.[0] ?? xLo) - 1e-9 * (xHi - xLo) && t <= (p.xTickRange?.[1] ?? xHi) + 1e-9 * (xHi - xLo))
  const sx = (x: number): number => box.left + ((x - xLo) / (xHi - xLo)) * box.width
  const sy = (y: number): number => bottom - ((y - lo) / (hi - lo || 1)) * box.height
  const shapes: Shape[] = []
  const yFormat = p.yFormat ?? formatTick
  for (const t of yTicks) {
    shapes.push({kind: 'line', x1: box.left, y1: sy(t), x2: right, y2: sy(t), color: GRID, width: 1})
    shapes.push({kind: 'text', x: box.left - 6, y: sy(t) + 4, text: yFormat(t), anchor: 'end', size: TICK_SIZE, color: AXIS, tag: 'ytick'})
  }
  for (const [t, label] of xTickPairs) {
    shapes.push({kind: 'line', x1: sx(t), y1: bottom, x2: sx(t), y2: bottom + 4, color: AXIS, width: 1})
    shapes.push({kind: 'text', x: sx(t), y: bottom + 17, text: label, anchor: 'middle', size: TICK_SIZE, color: AXIS, tag: 'xtick'})
  }
  shapes.push({kind: 'line', x1: box.left, y1: bottom, x2: right, y2: bottom, color: AXIS, width: 1})
  shapes.push({kind: 'line', x1: box.left, y1: box.top, x2: box.left, y2: bottom, color: AXIS, width: 1})
  if (p.title !== undefined) {
    shapes.push({kind: 'text', x: box.left + box.width / 2, y: box.top - 12, text: p.title, anchor: 'middle', size: 13, color: AXIS, bold: true})
  }
  if (p.xLabel !== undefined) {
    shapes.push({kind: 'text', x: box.left + box.width / 2, y: bottom + 36, text: p.xLabel, anchor: 'middle', size: 12, color: AXIS})
  }
  if (p.yLabel !== undefined) {
    const widest = Math.max(...yTicks.map((t) => textWidth(yFormat(t), TICK_SIZE)))
    shapes.push({kind: 'text', x: box.left - widest - 16, y: box.top + box.height / 2, text: p.yLabel, anchor: 'middle', size: 12, color: AXIS, rotate: -90})
  }
  for (const s of p.series) {
    shapes.push(...bands(s, sx, sy))
  }
  for (const s of p.series) {
    let run: Array<[number, number]> = []
    const flush = (): void => {
      if (run.length > 1) {
        shapes.push({kind: 'polyline', points: run, color: s.style.color, width: s.style.width ?? 2, dash: s.style.dash, tag: `series:${s.name}`})
      }
      run = []
    }
    for (const q of s.points) {
      if (q.y === null || !Number.isFinite(q.y)) {
        flush()
      } else {
        run.push([sx(q.x), sy(q.y)])
      }
    }
    flush()
  }
  for (const s of p.series) {
    for (const q of s.points) {
      if (q.y !== null && Number.isFinite(q.y)) {
        shapes.push(...marker(s.style.marker, sx(q.x), sy(q.y), s.style.color, s.style.size ?? 4.5, `marker:${s.name}`))
      }
    }
  }
  return {shapes, sx, sy}
}

/** Shaded bands over each run of consecutive points that carry an interval. */
function bands(s: XYSeries, sx: (x: number) => number, sy: (y: number) => number): Shape[] {
  const out: Shape[] = []
  let run: XYPoint[] = []
  const flush = (): void => {
    if (run.length > 1) {
      const upper = run.map((q): [number, number] => [sx(q.x), sy((q.band as readonly [number, number])[1])])
      const lower = run.map((q): [number, number] => [sx(q.x), sy((q.band as readonly [number, number])[0])]).reverse()
      out.push({kind: 'polygon', points: [...upper, ...lower], fill: s.style.color, opacity: 0.15, tag: `band:${s.name}`})
    }
    run = []
  }
  for (const q of s.points) {
    if (q.band === undefined || q.y === null) {
      flush()
    } else {
      run.push(q)
    }
  }
  flush()
  return out
}

export interface LegendEntry {
  label: string
  /** Draws the entry's symbol centred on (x, y) in a 28 x 12 box. */
  symbol: (x: number, y: number) => Shape[]
}

export function seriesLegend(name: string, style: SeriesStyle): LegendEntry {
  return {
    label: name,
    symbol: (x, y) => [{kind: 'line', x1: x - 14, y1: y, x2: x + 14, y2: y, color: style.color, width: style.width ?? 2, dash: style.dash}, ...marker(style.marker, x, y, style.color, style.size ?? 4.5)],
  }
}

/** Legend entries in rows from (x, y), wrapping at maxWidth; returns the shapes and the height used. */
export function drawLegend(entries: readonly LegendEntry[], x: number, y: number, maxWidth: number): {shapes: Shape[]; height: number} {
  const shapes: Shape[] = []
  let cx = x
  let cy = y
  for (const e of entries) {
    const w = 40 + textWidth(e.label, 12) + 18
    if (cx > x && cx + w > x + maxWidth) {
      cx = x
      cy += 22
    }
    shapes.push(...e.symbol(cx + 16, cy))
    shapes.push({kind: 'text', x: cx + 36, y: cy + 4, text: e.label, anchor: 'start', size: 12, color: AXIS, tag: 'legend'})
    cx += w
  }
  return {shapes, height: cy - y + 22}
}

export interface ChartSeries {
  name: string
  values: ReadonlyArray<number | null>
  style?: SeriesStyle
}

export interface LineChartParams {
  title: string
  xLabel: string
  yLabel: string
  x: readonly number[]
  series: readonly ChartSeries[]
  /** Extra marked points with their own legend entry (e.g. layers a rule flags). */
  marks?: ReadonlyArray<{name: string; style: SeriesStyle; points: ReadonlyArray<{x: number; y: number; label?: string}>}>
  xDomain?: readonly [number, number]
  xInteger?: boolean
  xTickRange?: readonly [number, number]
  width?: number
  height?: number
}

/** One panel with the legend underneath. */
export function layoutLineChart(p: LineChartParams): ChartLayout {
  const width = p.width ?? 860
  const box = {left: 80, top: 56, width: width - 110, height: (p.height ?? 440) - 56 - 130}
  const series = p.series.map((s, i) => ({name: s.name, style: s.style ?? seriesStyle(i), points: p.x.map((x, j) => ({x, y: s.values[j] ?? null}))}))
  const panel = drawPanel({box, xLabel: p.xLabel, yLabel: p.yLabel, series, xDomain: p.xDomain, xInteger: p.xInteger, xTickRange: p.xTickRange})
  const shapes: Shape[] = [{kind: 'text', x: width / 2, y: 26, text: p.title, anchor: 'middle', size: 15, color: AXIS, bold: true}, ...panel.shapes]
  const entries = series.map((s) => seriesLegend(s.name, s.style))
  for (const m of p.marks ?? []) {
    for (const q of m.points) {
      shapes.push(...marker(m.style.marker, panel.sx(q.x), panel.sy(q.y), m.style.color, 6, `mark:${m.name}`))
      if (q.label !== undefined) {
        shapes.push({kind: 'text', x: panel.sx(q.x), y: panel.sy(q.y) - 10, text: q.label, anchor: 'middle', size: 10, color: m.style.color, tag: `mark:${m.name}`})
      }
    }
    entries.push({label: m.points.length === 0 ? `${m.name} (none flagged)` : m.name, symbol: (x, y) => marker(m.style.marker, x, y, m.style.color, 6)})
  }
  const legend = drawLegend(entries, box.left, box.top + box.height + 62, box.width)
  shapes.push(...legend.shapes)
  return {width, height: Math.max(p.height ?? 440, box.top + box.height + 62 + legend.height), shapes}
}
