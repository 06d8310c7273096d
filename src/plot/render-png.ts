import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {Resvg, type ResvgRenderOptions} from '@resvg/resvg-js'
import {DlecError} from '../errors.js'
import {CHART_FONT, chartSvg} from './chart-svg.js'
import type {ChartLayout} from './shapes.js'

/** The fonts the package ships (fonts/, DejaVu Sans regular and bold, Bitstream Vera licence). */
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => fileURLToPath(new URL(`../../fonts/${f}`, import.meta.url)))

const OPTIONS: ResvgRenderOptions = {
  // only the bundled fonts: the same pixels on every machine, whatever fonts it has installed
  font: {fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: CHART_FONT},
  background: '#ffffff',
  logLevel: 'off',
}

let fontChecked = false

/**
 * A PNG of an SVG document, rendered by resvg (anti-aliased, with the bundled DejaVu Sans, so the
 * output does not depend on the machine's fonts). resvg silently drops text it has no font for, so
 * the first call checks that a probe label gets a box and refuses, naming the fix, when it does not.
 */
export function svgToPng(svg: string): Uint8Array {
  if (!fontChecked) {
    const probe = new Resvg(`<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><text x="2" y="15" font-size="12" font-family="${CHART_FONT}, sans-serif">0</text></svg>`, OPTIONS)
    if (probe.getBBox() === undefined) {
      const missing = FONT_FILES.find((f) => !existsSync(f))
      throw new DlecError('usage', 'DLEC_NO_FONT', `no font for PNG text: ${missing === undefined ? 'the bundled fonts could not be read' : `${missing} is missing`} (reinstall dlec) or write the plot as .svg`)
    }
    fontChecked = true
  }
  return new Resvg(svg, OPTIONS).render().asPng()
}

/** A PNG of a chart layout: the same SVG that chartSvg writes, rendered by resvg. */
export function chartPng(layout: ChartLayout): Uint8Array {
  return svgToPng(chartSvg(layout))
}
