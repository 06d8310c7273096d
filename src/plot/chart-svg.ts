import type {ChartLayout, Shape} from './shapes.js'

/** The font the charts ask for; render-png.ts loads it (or the system's sans-serif) for resvg. */
export const CHART_FONT = 'DejaVu Sans'

/** A standalone SVG document of a chart layout. */
export function chartSvg(layout: ChartLayout): string {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" font-family="${CHART_FONT}, Verdana, Arial, sans-serif">`,
  ]
  if (layout.shapes.some((s) => s.kind === 'rect' && s.fill === 'hatch')) {
    out.push(
      '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4f4f4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a9a" stroke-width="2"/></pattern></defs>',
    )
  }
  out.push('<rect width="100%" height="100%" fill="#ffffff"/>')
  for (const s of layout.shapes) {
    out.push(shapeSvg(s))
  }
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

const n = (v: number): string => String(Math.round(v * 100) / 100)

function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? n(v) : escapeXml(v)}"`)
    .join('')
}

function shapeSvg(s: Shape): string {
  const tag = s.tag
  switch (s.kind) {
    case 'line': {
      return `<line${attrs({x1: s.x1, y1: s.y1, x2: s.x2, y2: s.y2, stroke: s.color, 'stroke-width': s.width, 'stroke-dasharray': s.dash, 'data-tag': tag})}/>`
    }
    case 'polyline': {
      const points = s.points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')
      return `<polyline${attrs({points, fill: 'none', stroke: s.color, 'stroke-width': s.width, 'stroke-dasharray': s.dash, 'stroke-linejoin': 'round', 'data-tag': tag})}/>`
    }
    case 'polygon': {
      const points = s.points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')
      return `<polygon${attrs({points, fill: s.fill, 'fill-opacity': s.opacity, stroke: s.stroke, 'stroke-width': s.strokeWidth, 'data-tag': tag})}/>`
    }
    case 'rect': {
      const fill = s.fill === 'hatch' ? 'url(#hatch)' : s.fill
      return `<rect${attrs({x: s.x, y: s.y, width: s.w, height: s.h, fill, stroke: s.stroke, 'stroke-width': s.strokeWidth, 'data-tag': tag})}/>`
    }
    case 'circle': {
      return `<circle${attrs({cx: s.cx, cy: s.cy, r: s.r, fill: s.fill, stroke: s.stroke, 'stroke-width': s.strokeWidth, 'data-tag': tag})}/>`
    }
    case 'text': {
      const transform = s.rotate === undefined ? undefined : `rotate(${s.rotate} ${n(s.x)} ${n(s.y)})`
      const a = attrs({x: s.x, y: s.y, 'font-size': s.size, 'text-anchor': s.anchor, fill: s.color, 'font-weight': s.bold === true ? 'bold' : undefined, transform, 'data-tag': tag})
      return `<text${a}>${escapeXml(s.text)}</text>`
    }
  }
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
}
