/**
 * Charts as plain geometry in pixel coordinates: chart-svg.ts writes it as SVG, and the PNG is
 * that SVG rendered by resvg. `tag` names what a shape stands for (a tick label, a heat-map cell)
 * so tests and other tools can find it; the SVG carries it as a `data-tag` attribute.
 */
export type Shape =
  | {kind: 'line'; x1: number; y1: number; x2: number; y2: number; color: string; width: number; dash?: string; tag?: string}
  | {kind: 'polyline'; points: Array<[number, number]>; color: string; width: number; dash?: string; tag?: string}
  | {kind: 'polygon'; points: Array<[number, number]>; fill: string; opacity?: number; stroke?: string; strokeWidth?: number; tag?: string}
  /** `fill: 'hatch'` draws the grey diagonal hatching used for "not measured". */
  | {kind: 'rect'; x: number; y: number; w: number; h: number; fill: string; stroke?: string; strokeWidth?: number; tag?: string}
  | {kind: 'circle'; cx: number; cy: number; r: number; fill: string; stroke?: string; strokeWidth?: number; tag?: string}
  | {kind: 'text'; x: number; y: number; text: string; anchor: 'start' | 'middle' | 'end'; size: number; color: string; bold?: boolean; rotate?: number; tag?: string}

export interface ChartLayout {
  width: number
  height: number
  shapes: Shape[]
}

export type MarkerKind = 'circle' | 'square' | 'triangle' | 'diamond' | 'cross' | 'down' | 'none'

/** How one series is drawn: colour, dash pattern (SVG stroke-dasharray; none = solid) and marker. */
export interface SeriesStyle {
  color: string
  dash?: string
  marker: MarkerKind
  /** Line width [default 2]; seriesStyle makes earlier series wider so that a later one drawn on top leaves it visible. */
  width?: number
  /** Marker radius [default 4.5]. */
  size?: number
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2']
const DASHES = [undefined, '7 4', '2 3', '9 3 2 3', '4 2', '1 4']
const MARKERS: MarkerKind[] = ['circle', 'square', 'triangle', 'diamond', 'down', 'cross']

export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length] as string
}

/** The i-th series style: colour, dash and marker all differ between neighbours. */
export function seriesStyle(i: number): SeriesStyle {
  return {
    color: seriesColor(i),
    dash: DASHES[i % DASHES.length],
    marker: MARKERS[i % MARKERS.length] as MarkerKind,
    width: Math.max(1.5, 3.5 - 0.75 * i),
    size: Math.max(3.5, 6.5 - 1.1 * i),
  }
}

/** A hollow marker (an outline only) so that markers at the same place all stay visible. */
export function marker(kind: MarkerKind, cx: number, cy: number, color: string, r = 4.5, tag?: string): Shape[] {
  const s = {fill: 'none', stroke: color, strokeWidth: 1.6, tag}
  switch (kind) {
    case 'circle': {
      return [{kind: 'circle', cx, cy, r, ...s}]
    }
    case 'square': {
      return [{kind: 'rect', x: cx - r * 0.9, y: cy - r * 0.9, w: r * 1.8, h: r * 1.8, ...s}]
    }
    case 'triangle': {
      return [{kind: 'polygon', points: [[cx, cy - r * 1.15], [cx + r, cy + r * 0.75], [cx - r, cy + r * 0.75]], ...s}]
    }
    case 'down': {
      return [{kind: 'polygon', points: [[cx, cy + r * 1.15], [cx + r, cy - r * 0.75], [cx - r, cy - r * 0.75]], ...s}]
    }
    case 'diamond': {
      return [{kind: 'polygon', points: [[cx, cy - r * 1.25], [cx + r, cy], [cx, cy + r * 1.25], [cx - r, cy]], ...s}]
    }
    case 'cross': {
      return [
        {kind: 'line', x1: cx - r, y1: cy - r, x2: cx + r, y2: cy + r, color, width: 1.8, tag},
        {kind: 'line', x1: cx - r, y1: cy + r, x2: cx + r, y2: cy - r, color, width: 1.8, tag},
      ]
    }
    case 'none': {
      return []
    }
  }
}
