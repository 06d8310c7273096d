import {formatTick, niceTicks, textWidth} from '../plot/axis.js'
import {drawLegend, type LegendEntry} from '../plot/line-chart.js'
import type {ChartLayout, Shape} from '../plot/shapes.js'
import {formatDuplications, type Duplication} from './layer-plan.js'
import {chosenPoint, type CurveChartPoint} from './curve-charts.js'

/**
 * The RYS-style heat-map of the measured effect of running a block [i, j) twice: rows are the
 * start i, columns the end j; the colour scale runs from dark blue (lowest value: the best block)
 * to pale, cells never measured are hatched, values are printed where they fit, and the chosen
 * plan's blocks are outlined. When only single layers were measured it is a bar chart over the
 * layers instead. Pure.
 */
export interface HeatmapBlock {
  start: number
  end: number
  kl: number
  lossDelta: number
  top1: number
}

export interface HeatmapInput {
  numLayers: number
  blocks: readonly HeatmapBlock[]
  /** Curve points: the default chosen plan is chosenPoint(points). */
  points?: readonly CurveChartPoint[]
}

export interface HeatmapOptions {
  metric?: 'kl' | 'lossDelta'
  /** The plan whose blocks are outlined [default: the chosen curve point, else the best block]; null: none. */
  chosen?: readonly Duplication[] | null
}

/** Sequential blues, best (t = 0) darkest. */
const STOPS = ['#08306b', '#08519c', '#2171b5', '#4292c6', '#6baed6', '#9ecae1', '#c6dbef', '#dde9f5']

export function scaleColor(t: number): string {
  const u = Math.min(1, Math.max(0, t)) * (STOPS.length - 1)
  const i = Math.min(STOPS.length - 2, Math.floor(u))
  const f = u - i
  const rgb = (hex: string): number[] => [1, 3, 5].map((k) => Number.parseInt(hex.slice(k, k + 2), 16))
  const a = rgb(STOPS[i] as string)
  const b = rgb(STOPS[i + 1] as string)
  return `#${a.map((v, k) => Math.round(v + ((b[k] as number) - v) * f).toString(16).padStart(2, '0')).join('')}`
}

interface Scale {
  lo: number
  hi: number
  log: boolean
  t: (v: number) => number
}

function makeScale(values: readonly number[]): Scale {
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  const log = lo > 0 && hi / lo >= 10
  const t = (v: number): number => (hi > lo ? (log ? Math.log(v / lo) / Math.log(hi / lo) : (v - lo) / (hi - lo)) : 0)
  return {lo, hi, log, t}
}

function label(v: number, digits = 2): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(digits)))
}

/** The value with 3 significant digits where that fits the room, else 2. */
function fitLabel(v: number, size: number, room: number): string {
  const three = label(v, 3)
  return textWidth(three, size) <= room ? three : label(v)
}

const INK = '#222222'

export function blockHeatmap(report: HeatmapInput, options: HeatmapOptions = {}): ChartLayout {
  const metric = options.metric ?? 'kl'
  const what = metric === 'kl' ? 'mean KL' : 'Δloss'
  const blocks = report.blocks
  const values = blocks.map((b) => b[metric])
  const best = [...blocks].sort((a, b) => a[metric] - b[metric])[0]
  const chosen = options.chosen === null ? [] : (options.chosen ?? chosenPoint(report.points ?? [])?.duplications ?? (best ? [best] : []))
  const isChosen = (start: number, end: number): boolean => chosen.some((d) => d.start === start && d.end === end)
  const chosenLabel = chosen.length > 0 ? `chosen plan: ${formatDuplications(chosen)}` : undefined
  if (blocks.length > 0 && blocks.every((b) => b.end - b.start === 1)) {
    return singleLayerBars(report, metric, chosen, isChosen, chosenLabel)
  }
  if (blocks.length === 0) {
    return nothingMeasured(`Block [i, j) run twice: measured ${what} against the original`)
  }
  const scale = makeScale(values)
  const all = [...blocks, ...chosen]
  const rows = all.length > 0 ? [Math.min(...all.map((b) => b.start)), Math.max(...all.map((b) => b.start))] : [0, report.numLayers - 1]
  const cols = all.length > 0 ? [Math.min(...all.map((b) => b.end)), Math.max(...all.map((b) => b.end))] : [1, report.numLayers]
  const nRows = (rows[1] as number) - (rows[0] as number) + 1
  const nCols = (cols[1] as number) - (cols[0] as number) + 1
  const cell = Math.max(12, Math.min(56, Math.floor(Math.min(720 / nCols, 640 / nRows))))
  // blocks longer than any measured one were not searched: left blank rather than hatched
  const longest = Math.max(1, ...blocks.map((b) => b.end - b.start))
  const left = 96
  const top = 70
  const gridW = cell * nCols
  const gridH = cell * nRows
  const barX = left + gridW + 50
  const title = `Block [i, j) run twice: measured ${what} against the original (lower is better)`
  const width = Math.max(720, barX + 260, textWidth(title, 15) * 1.05 + 40)
  const shapes: Shape[] = [{kind: 'text', x: width / 2, y: 28, text: title, anchor: 'middle', size: 15, color: INK, bold: true}]
  const measured = new Map(blocks.map((b) => [`${b.start}-${b.end}`, b]))
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) {
      const start = (rows[0] as number) + r
      const end = (cols[0] as number) + c
      if (end <= start || end - start > longest) {
        continue
      }
      const x = left + c * cell
      const y = top + r * cell
      const b = measured.get(`${start}-${end}`)
      if (b === undefined) {
        shapes.push({kind: 'rect', x, y, w: cell, h: cell, fill: 'hatch', tag: `unmeasured:${start}-${end}`})
        continue
      }
      const t = scale.t(b[metric])
      shapes.push({kind: 'rect', x, y, w: cell, h: cell, fill: scaleColor(t), tag: `cell:${start}-${end}`})
      const size = Math.min(11, Math.floor(cell * 0.3))
      const text = fitLabel(b[metric], size, cell - 4)
      if (size >= 8 && textWidth(text, size) <= cell - 4) {
        shapes.push({kind: 'text', x: x + cell / 2, y: y + cell / 2 + size * 0.36, text, anchor: 'middle', size, color: t < 0.45 ? '#ffffff' : INK, tag: `value:${start}-${end}`})
      }
    }
  }
  for (let k = 0; k <= nRows; k++) {
    shapes.push({kind: 'line', x1: left, y1: top + k * cell, x2: left + gridW, y2: top + k * cell, color: '#ffffff', width: 1})
  }
  for (let k = 0; k <= nCols; k++) {
    shapes.push({kind: 'line', x1: left + k * cell, y1: top, x2: left + k * cell, y2: top + gridH, color: '#ffffff', width: 1})
  }
  for (const d of chosen) {
    const r = d.start - (rows[0] as number)
    const c = d.end - (cols[0] as number)
    shapes.push({kind: 'rect', x: left + c * cell + 1.5, y: top + r * cell + 1.5, w: cell - 3, h: cell - 3, fill: 'none', stroke: '#ff7f0e', strokeWidth: 3, tag: `chosen:${d.start}-${d.end}`})
  }
  const every = Math.max(1, Math.ceil(16 / cell))
  for (let r = 0; r < nRows; r += every) {
    shapes.push({kind: 'text', x: left - 6, y: top + r * cell + cell / 2 + 4, text: String((rows[0] as number) + r), anchor: 'end', size: 11, color: INK})
  }
  for (let c = 0; c < nCols; c += every) {
    shapes.push({kind: 'text', x: left + c * cell + cell / 2, y: top + gridH + 16, text: String((cols[0] as number) + c), anchor: 'middle', size: 11, color: INK})
  }
  shapes.push({kind: 'text', x: left + gridW / 2, y: top + gridH + 38, text: 'end j (exclusive)', anchor: 'middle', size: 12, color: INK})
  shapes.push({kind: 'text', x: left - 40, y: top + gridH / 2, text: 'start i', anchor: 'middle', size: 12, color: INK, rotate: -90})
  shapes.push(...colorBar(scale, barX, top + 20, Math.min(260, Math.max(160, gridH - 20)), what))
  const legendY = top + Math.max(gridH + 66, Math.min(260, Math.max(160, gridH - 20)) + 70)
  const legend = drawLegend(keyEntries(chosenLabel, shapes.some((q) => q.tag?.startsWith('unmeasured:') === true)), left, legendY, width - left - 20)
  shapes.push(...legend.shapes)
  return {width, height: legendY + legend.height, shapes}
}

function keyEntries(chosenLabel: string | undefined, unmeasured: boolean): LegendEntry[] {
  const entries: LegendEntry[] = unmeasured ? [{label: 'not measured', symbol: (x, y) => [{kind: 'rect', x: x - 10, y: y - 7, w: 20, h: 14, fill: 'hatch', stroke: '#bbbbbb', strokeWidth: 1}]}] : []
  if (chosenLabel !== undefined) {
    entries.push({label: chosenLabel, symbol: (x, y) => [{kind: 'rect', x: x - 10, y: y - 7, w: 20, h: 14, fill: 'none', stroke: '#ff7f0e', strokeWidth: 3}]})
  }
  return entries
}

/** A vertical colour bar: the highest value at the top, the lowest (darkest, best) at the bottom. */
function colorBar(scale: Scale, x: number, y: number, h: number, what: string): Shape[] {
  const shapes: Shape[] = [{kind: 'text', x, y: y - 10, text: `${what}${scale.log ? ' (log scale)' : ''}`, anchor: 'start', size: 12, color: INK, bold: true}]
  const steps = 64
  for (let s = 0; s < steps; s++) {
    // step 0 is the lowest value (bottom)
    shapes.push({kind: 'rect', x, y: y + h - ((s + 1) * h) / steps, w: 20, h: h / steps + 0.5, fill: scaleColor(s / (steps - 1)), tag: `colorbar:${s}`})
  }
  shapes.push({kind: 'rect', x, y, w: 20, h, fill: 'none', stroke: '#888888', strokeWidth: 1})
  const pos = (v: number): number => y + h - scale.t(v) * h
  const ticks = scale.hi > scale.lo ? (scale.log ? logTicks(scale.lo, scale.hi) : niceTicks(scale.lo, scale.hi, 5).filter((t) => t >= scale.lo - 1e-12 && t <= scale.hi + 1e-12)) : []
  const shown = [...new Set([scale.lo, ...ticks, scale.hi])].sort((a, b) => a - b)
  let lastY = Number.POSITIVE_INFINITY
  for (const t of shown) {
    const ty = pos(t)
    const edge = t === scale.lo || t === scale.hi
    if (!edge && (lastY - ty < 14 || ty - pos(scale.hi) < 14)) {
      continue
    }
    lastY = ty
    shapes.push({kind: 'line', x1: x + 20, y1: ty, x2: x + 25, y2: ty, color: '#555555', width: 1})
    const text = edge ? `${t === scale.lo ? 'best' : 'worst'} ${formatTick(Number(t.toPrecision(3)))}` : formatTick(t)
    shapes.push({kind: 'text', x: x + 29, y: ty + 4, text, anchor: 'start', size: 11, color: INK, bold: edge, tag: 'colorbar-label'})
  }
  shapes.push({kind: 'text', x, y: y + h + 20, text: 'darker = lower (better)', anchor: 'start', size: 11, color: '#555555'})
  return shapes
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = []
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e
      if (v >= lo && v <= hi) {
        out.push(Number(v.toPrecision(6)))
      }
    }
  }
  return out
}

/** Single-layer copies only: one bar per layer, coloured on the same scale, unmeasured layers hatched. */
function singleLayerBars(report: HeatmapInput, metric: 'kl' | 'lossDelta', chosen: readonly Duplication[], isChosen: (s: number, e: number) => boolean, chosenLabel: string | undefined): ChartLayout {
  const what = metric === 'kl' ? 'mean KL' : 'Δloss'
  const byLayer = new Map(report.blocks.map((b) => [b.start, b[metric]]))
  const starts = [...report.blocks.map((b) => b.start), ...chosen.map((d) => d.start)]
  const first = Math.min(...starts)
  const last = Math.max(...starts)
  const count = last - first + 1
  const slot = Math.max(14, Math.min(count < 8 ? 120 : 60, Math.floor(880 / count)), Math.floor(360 / count))
  const left = 90
  const top = 64
  const plotW = slot * count
  const plotH = 300
  const title = `Layer l run twice: measured ${what} against the original (lower is better)`
  const width = Math.max(640, left + plotW + 40, textWidth(title, 15) * 1.05 + 40)
  const values = [...byLayer.values()]
  const scale = makeScale(values)
  const ticks = niceTicks(Math.min(0, ...values), Math.max(...values), 5)
  const yLo = ticks[0] as number
  const yHi = ticks[ticks.length - 1] as number
  const sy = (v: number): number => top + plotH - ((v - yLo) / (yHi - yLo || 1)) * plotH
  const shapes: Shape[] = [{kind: 'text', x: width / 2, y: 28, text: title, anchor: 'middle', size: 15, color: INK, bold: true}]
  for (const t of ticks) {
    shapes.push({kind: 'line', x1: left, y1: sy(t), x2: left + plotW, y2: sy(t), color: '#e6e6e6', width: 1})
    shapes.push({kind: 'text', x: left - 6, y: sy(t) + 4, text: formatTick(t), anchor: 'end', size: 11, color: INK, tag: 'ytick'})
  }
  const every = Math.max(1, Math.ceil(22 / slot))
  for (let k = 0; k < count; k++) {
    const layer = first + k
    const x = left + k * slot + slot * 0.15
    const w = slot * 0.7
    const v = byLayer.get(layer)
    const base = sy(Math.min(Math.max(0, yLo), yHi))
    const y0 = v === undefined ? top : Math.min(sy(v), base)
    const y1 = v === undefined ? top + plotH : Math.max(sy(v), base)
    if (v === undefined) {
      shapes.push({kind: 'rect', x, y: top, w, h: plotH, fill: 'hatch', tag: `unmeasured:${layer}-${layer + 1}`})
    } else {
      shapes.push({kind: 'rect', x, y: y0, w, h: y1 - y0, fill: scaleColor(scale.t(v)), stroke: '#8fb3d6', strokeWidth: 0.8, tag: `cell:${layer}-${layer + 1}`})
      const text = fitLabel(v, 10, slot)
      if (textWidth(text, 10) <= slot) {
        // a negative value's label goes inside the bar's foot (below it sit the layer labels)
        const inside = v < 0 && y1 - y0 > 16
        shapes.push({kind: 'text', x: x + w / 2, y: v < 0 ? (inside ? y1 - 5 : y1 + 13) : y0 - 4, text, anchor: 'middle', size: 10, color: inside && scale.t(v) < 0.45 ? '#ffffff' : INK, tag: `value:${layer}-${layer + 1}`})
      }
    }
    if (isChosen(layer, layer + 1)) {
      shapes.push({kind: 'rect', x: x - 1.5, y: y0 - 1.5, w: w + 3, h: y1 - y0 + 3, fill: 'none', stroke: '#ff7f0e', strokeWidth: 3, tag: `chosen:${layer}-${layer + 1}`})
    }
    if (k % every === 0) {
      shapes.push({kind: 'text', x: x + w / 2, y: top + plotH + 17, text: String(layer), anchor: 'middle', size: 11, color: INK, tag: 'xtick'})
    }
  }
  shapes.push({kind: 'line', x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, color: '#333333', width: 1})
  shapes.push({kind: 'line', x1: left, y1: top, x2: left, y2: top + plotH, color: '#333333', width: 1})
  if (yLo < 0) {
    shapes.push({kind: 'line', x1: left, y1: sy(0), x2: left + plotW, y2: sy(0), color: '#333333', width: 1})
  }
  shapes.push({kind: 'text', x: left + plotW / 2, y: top + plotH + 38, text: 'layer l (the block [l, l+1) duplicated)', anchor: 'middle', size: 12, color: INK})
  shapes.push({kind: 'text', x: left - 50, y: top + plotH / 2, text: what, anchor: 'middle', size: 12, color: INK, rotate: -90})
  const entries = keyEntries(chosenLabel, shapes.some((q) => q.tag?.startsWith('unmeasured:') === true))
  entries.push({label: 'darker = lower (better)', symbol: (x, y) => [0, 1, 2, 3].map((i): Shape => ({kind: 'rect', x: x - 12 + i * 6, y: y - 7, w: 6, h: 14, fill: scaleColor(i / 3)}))})
  const legend = drawLegend(entries, left, top + plotH + 64, width - left - 20)
  shapes.push(...legend.shapes)
  return {width, height: top + plotH + 64 + legend.height, shapes}
}

/** No block was measured (identity copies only): a picture that says so. */
function nothingMeasured(title: string): ChartLayout {
  const width = Math.max(640, textWidth(title, 15) * 1.05 + 40)
  return {
    width,
    height: 160,
    shapes: [
      {kind: 'text', x: width / 2, y: 28, text: title, anchor: 'middle', size: 15, color: INK, bold: true},
      {kind: 'text', x: width / 2, y: 90, text: 'no block was measured (identity copies are KL 0 by construction and are not measured)', anchor: 'middle', size: 12, color: '#555555', tag: 'nothing-measured'},
    ],
  }
}
