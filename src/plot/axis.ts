/**
 * Axis helpers: nice tick values, K/M/B number labels, and tick sets whose labels do not collide.
 * Label widths are estimated for DejaVu Sans (the font the PNG writer asks for); the estimate is
 * on the wide side (digits are 0.64 em there), and the chart tests measure the real glyph boxes.
 */

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

const UNITS: Array<[number, string]> = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'K'],
]

/** A count with a K/M/B/T suffix and at most `digits` significant digits: 1.6B, 202M, 24.5K, 310. */
export function formatCount(n: number, digits = 3): string {
  const abs = Math.abs(n)
  const sign = n < 0 ? '-' : ''
  for (const [size, unit] of UNITS) {
    if (abs >= size) {
      return `${sign}${trim((abs / size).toPrecision(digits))}${unit}`
    }
  }
  return `${sign}${trim(abs.toPrecision(Math.max(digits, String(Math.round(abs)).length)))}`
}

/** A plain tick label: up to 4 significant digits, exponent form for very large or small values. */
export function formatTick(t: number): string {
  return Math.abs(t) >= 1e5 || (Math.abs(t) < 0.001 && t !== 0) ? t.toExponential(1) : String(Number(t.toPrecision(4)))
}

export function formatPercent(t: number): string {
  return `${Number((100 * t).toPrecision(4))}%`
}

function trim(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s
}

/** Estimated advance width of a label in pixels (DejaVu Sans, a little wide on purpose). */
export function textWidth(text: string, size: number): number {
  let em = 0
  for (const ch of text) {
    em += /[0-9A-Z%]/.test(ch) ? 0.7 : /[.,:;|il ]/.test(ch) ? 0.36 : 0.62
  }
  return em * size
}

/**
 * Nice ticks over [lo, hi] with as many labels as fit in `pixels` without two labels closer than
 * `gap` pixels; the labels are made distinct (more digits) where rounding would repeat one.
 */
export function fitTicks(params: {lo: number; hi: number; pixels: number; format: (v: number, digits: number) => string; size: number; gap?: number}): {ticks: number[]; labels: string[]} {
  const {lo, hi, pixels, format, size} = params
  const gap = params.gap ?? 12
  let best: {ticks: number[]; labels: string[]} | undefined
  for (let count = 10; count >= 1; count--) {
    const ticks = niceTicks(lo, hi, count)
    let labels: string[] = []
    for (let digits = 3; digits <= 8; digits++) {
      labels = ticks.map((t) => format(t, digits))
      if (new Set(labels).size === labels.length) {
        break
      }
    }
    best = {ticks, labels}
    const per = pixels / (hi - lo)
    const fits = ticks.every((t, i) => {
      if (i === 0) {
        return true
      }
      const prev = ticks[i - 1] as number
      const need = (textWidth(labels[i - 1] as string, size) + textWidth(labels[i] as string, size)) / 2 + gap
      return (t - prev) * per >= need
    })
    if (fits) {
      return best
    }
  }
  return best ?? {ticks: [lo], labels: [format(lo, 3)]}
}
