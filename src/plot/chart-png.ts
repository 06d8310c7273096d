import {crc32, deflateSync} from 'node:zlib'
import {glyphRows} from './font5x7.js'
import type {ChartLayout} from './line-chart.js'

/**
 * A PNG of a chart layout from a tiny rasteriser: anti-aliasing-free lines (thick lines as stamped
 * squares), filled circles and 5x7 bitmap text (scaled by font size), on an RGBA canvas, encoded as
 * an 8-bit RGBA PNG with zlib from node:zlib. No native code, no browser.
 */
export function chartPng(layout: ChartLayout): Uint8Array {
  const canvas = new Canvas(layout.width, layout.height)
  for (const s of layout.shapes) {
    switch (s.kind) {
      case 'line': {
        canvas.line(s.x1, s.y1, s.x2, s.y2, parseColor(s.color), s.width)
        break
      }
      case 'polyline': {
        for (let i = 1; i < s.points.length; i++) {
          const [x1, y1] = s.points[i - 1] as [number, number]
          const [x2, y2] = s.points[i] as [number, number]
          canvas.line(x1, y1, x2, y2, parseColor(s.color), s.width)
        }
        break
      }
      case 'circle': {
        canvas.circle(s.cx, s.cy, s.r, parseColor(s.color))
        break
      }
      case 'text': {
        canvas.text(s.x, s.y, s.text, s.anchor, s.size, parseColor(s.color))
        break
      }
    }
  }
  return encodePng(canvas.width, canvas.height, canvas.pixels)
}

type Rgba = [number, number, number, number]

class Canvas {
  readonly pixels: Uint8Array
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = new Uint8Array(width * height * 4).fill(255)
  }

  plot(x: number, y: number, c: Rgba): void {
    const xi = Math.round(x)
    const yi = Math.round(y)
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) {
      return
    }
    const i = (yi * this.width + xi) * 4
    const a = c[3] / 255
    for (let k = 0; k < 3; k++) {
      this.pixels[i + k] = Math.round((c[k] as number) * a + (this.pixels[i + k] as number) * (1 - a))
    }
    this.pixels[i + 3] = 255
  }

  line(x1: number, y1: number, x2: number, y2: number, c: Rgba, width: number): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x2 - x1), Math.abs(y2 - y1))))
    const half = Math.floor(width / 2)
    const r = width <= 1 ? 0 : half
    for (let s = 0; s <= steps; s++) {
      const x = x1 + ((x2 - x1) * s) / steps
      const y = y1 + ((y2 - y1) * s) / steps
      for (let dx = -r; dx <= r - (width % 2 === 0 ? 1 : 0); dx++) {
        for (let dy = -r; dy <= r - (width % 2 === 0 ? 1 : 0); dy++) {
          this.plot(x + dx, y + dy, c)
        }
      }
    }
  }

  circle(cx: number, cy: number, radius: number, c: Rgba): void {
    const r = Math.ceil(radius)
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++) {
        if (dx * dx + dy * dy <= radius * radius) {
          this.plot(cx + dx, cy + dy, c)
        }
      }
    }
  }

  text(x: number, baseline: number, text: string, anchor: 'start' | 'middle' | 'end', size: number, c: Rgba): void {
    const scale = Math.max(1, Math.round(size / 9))
    const advance = 6 * scale
    const total = text.length * advance - scale
    let left = anchor === 'start' ? x : anchor === 'middle' ? x - total / 2 : x - total
    const top = baseline - 7 * scale
    for (const ch of text) {
      const rows = glyphRows(ch)
      for (const [ry, bits] of rows.entries()) {
        for (let rx = 0; rx < 5; rx++) {
          if ((bits >> (4 - rx)) & 1) {
            for (let sy = 0; sy < scale; sy++) {
              for (let sx = 0; sx < scale; sx++) {
                this.plot(Math.round(left) + rx * scale + sx, Math.round(top) + ry * scale + sy, c)
              }
            }
          }
        }
      }
      left += advance
    }
  }
}

/** #rgb, #rrggbb or #rrggbbaa. */
export function parseColor(color: string): Rgba {
  const hex = color.replace(/^#/, '')
  const full = hex.length === 3 ? [...hex].map((d) => d + d).join('') : hex
  const v = (i: number, fallback: number): number => (full.length >= i + 2 ? Number.parseInt(full.slice(i, i + 2), 16) : fallback)
  return [v(0, 0), v(2, 0), v(4, 0), v(6, 255)]
}

/** An 8-bit RGBA PNG (filter 0 on every row). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  const raw = new Uint8Array((width * 4 + 1) * height)
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0
    raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1)
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 6, 0, 0, 0], 8)
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'ascii')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0)
  return Buffer.concat([head, data, crc])
}
