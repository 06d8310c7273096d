/**
 * A line chart as plain geometry (lines, polylines, circles, text) in pixel coordinates: the SVG
 * writer draws it, and so could a rasteriser. No browser, no dependencies.
 */
export interface ChartSeries {
  name: string
  values: ReadonlyArray<number | null>
  color: string
}

export interface LineChartParams {
  title: string
  xLabel: string
  yLabel: string
  x: readonly number[]
  series: readonly ChartSeries[]
  /** x values to mark with a dot on the first series (e.g. layers a rule flags). */
  marks?: {x: readonly number[]; label: string; color: string}
  width?: number
  height?: number
}

export type Shape =
  | {kind: 'line'; x1: number; y1: number; x2: number; y2: number; color: string; width: number}
  | {kind: 'polyline'; points: Array<[number, number]>; color: string; width: number}
  | {kind: 'circle'; cx: number; cy: number; r: number; color: string}
  | {kind: 'text'; x: number; y: number; text: string; anchor: 'start' | 'middle' | 'end'; size: number; color: string}

export interface ChartLayout {
  width: number
  height: number
  shapes: Shape[]
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2']

export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length] as string
}

/** "Nice" tick values (steps of 1, 2 or 5 times a power of ten) from at or below lo to at or above hi. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) {
    return [lo]
  }
  const raw = (hi - lo) / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag
  const ticks: number[] = []
  const end = Math.ceil(hi / step - 1e-9) * step
  for (let t = Math.floor(lo / step + 1e-9) * step; t <= end + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)))
  }
  return ticks
}

export function layoutLineChart(p: LineChartParams): ChartLayout {
  const width = p.width ?? 800
  const height = p.height ?? 420
  const left = 70
  const right = width - 170
  const top = 40
  const bottom = height - 50
  const all = p.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)))
  let lo = Math.min(0, ...all)
  let hi = Math.max(...all, lo + 1e-9)
  const yTicks = niceTicks(lo, hi)
  lo = Math.min(lo, yTicks[0] ?? lo)
  hi = Math.max(hi, yTicks[yTicks.length - 1] ?? hi)
  const xMin = Math.min(...p.x)
  const xMax = Math.max(...p.x, xMin + 1)
  const sx = (x: number): number => left + ((x - xMin) / (xMax - xMin)) * (right - left)
  const sy = (y: number): number => bottom - ((y - lo) / (hi - lo || 1)) * (bottom - top)
  const shapes: Shape[] = []
  const axis = '#333333'
  shapes.push({kind: 'text', x: width / 2, y: 24, text: p.title, anchor: 'middle', size: 16, color: axis})
  for (const t of yTicks) {
    shapes.push({kind: 'line', x1: left, y1: sy(t), x2: right, y2: sy(t), color: '#e0e0e0', width: 1})
    shapes.push({kind: 'text', x: left - 8, y: sy(t) + 4, text: formatTick(t), anchor: 'end', size: 11, color: axis})
  }
  const xStep = Math.max(1, Math.ceil(p.x.length / 16))
  for (const [i, x] of p.x.entries()) {
    if (i % xStep === 0) {
      shapes.push({kind: 'line', x1: sx(x), y1: bottom, x2: sx(x), y2: bottom + 5, color: axis, width: 1})
      shapes.push({kind: 'text', x: sx(x), y: bottom + 18, text: String(x), anchor: 'middle', size: 11, color: axis})
    }
  }
  shapes.push({kind: 'line', x1: left, y1: bottom, x2: right, y2: bottom, color: axis, width: 1})
  shapes.push({kind: 'line', x1: left, y1: top, x2: left, y2: bottom, color: axis, width: 1})
  shapes.push({kind: 'text', x: (left + right) / 2, y: height - 12, text: p.xLabel, anchor: 'middle', size: 12, color: axis})
  shapes.push({kind: 'text', x: 12, y: top - 12, text: p.yLabel, anchor: 'start', size: 12, color: axis})
  for (const [i, s] of p.series.entries()) {
    let run: Array<[number, number]> = []
    const flush = (): void => {
      if (run.length > 1) {
        shapes.push({kind: 'polyline', points: run, color: s.color, width: 2})
      }
      run = []
    }
    for (const [j, v] of s.values.entries()) {
      if (v === null || !Number.isFinite(v)) {
        flush()
        continue
      }
      const pt: [number, number] = [sx(p.x[j] ?? j), sy(v)]
      run.push(pt)
      shapes.push({kind: 'circle', cx: pt[0], cy: pt[1], r: 2.5, color: s.color})
    }
    flush()
    const ly = top + 10 + i * 18
    shapes.push({kind: 'line', x1: right + 15, y1: ly, x2: right + 35, y2: ly, color: s.color, width: 3})
    shapes.push({kind: 'text', x: right + 40, y: ly + 4, text: s.name, anchor: 'start', size: 11, color: axis})
  }
  const first = p.series[0]
  if (p.marks !== undefined && first !== undefined) {
    for (const mx of p.marks.x) {
      const j = p.x.indexOf(mx)
      const v = first.values[j]
      if (j >= 0 && v !== null && v !== undefined) {
        shapes.push({kind: 'circle', cx: sx(mx), cy: sy(v), r: 6, color: p.marks.color})
      }
    }
    const ly = top + 10 + p.series.length * 18
    shapes.push({kind: 'circle', cx: right + 25, cy: ly, r: 6, color: p.marks.color})
    shapes.push({kind: 'text', x: right + 40, y: ly + 4, text: p.marks.label, anchor: 'start', size: 11, color: axis})
  }
  return {width, height, shapes}
}

function formatTick(t: number): string {
  return Math.abs(t) >= 1000 || (Math.abs(t) < 0.001 && t !== 0) ? t.toExponential(1) : String(Number(t.toPrecision(4)))
}
