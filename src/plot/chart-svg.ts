import type {ChartLayout} from './line-chart.js'

/** A standalone SVG document of a chart layout. */
export function chartSvg(layout: ChartLayout): string {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
  ]
  const n = (v: number): string => String(Math.round(v * 100) / 100)
  for (const s of layout.shapes) {
    switch (s.kind) {
      case 'line': {
        out.push(`<line x1="${n(s.x1)}" y1="${n(s.y1)}" x2="${n(s.x2)}" y2="${n(s.y2)}" stroke="${s.color}" stroke-width="${s.width}"/>`)
        break
      }
      case 'polyline': {
        out.push(`<polyline points="${s.points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="${s.width}"/>`)
        break
      }
      case 'circle': {
        out.push(`<circle cx="${n(s.cx)}" cy="${n(s.cy)}" r="${s.r}" fill="${s.color}"/>`)
        break
      }
      case 'text': {
        out.push(`<text x="${n(s.x)}" y="${n(s.y)}" font-size="${s.size}" text-anchor="${s.anchor}" fill="${s.color}">${escapeXml(s.text)}</text>`)
        break
      }
    }
  }
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
}
