import {rename, writeFile} from 'node:fs/promises'
import {chartPng} from '../plot/chart-png.js'
import {chartSvg} from '../plot/chart-svg.js'
import type {ChartLayout} from '../plot/line-chart.js'
import {UsageError} from '../errors.js'

/** Writes a chart as SVG or PNG (by the file extension), through a temp file and a rename. */
export async function writeChart(params: {layout: ChartLayout; path: string}): Promise<void> {
  const {path, layout} = params
  const lower = path.toLowerCase()
  let bytes: string | Uint8Array
  if (lower.endsWith('.svg')) {
    bytes = chartSvg(layout)
  } else if (lower.endsWith('.png')) {
    bytes = chartPng(layout)
  } else {
    throw new UsageError(`${path}: a plot must end in .svg or .png`)
  }
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, bytes)
  await rename(tmp, path)
}
