import {UsageError} from '../errors.js'
import {writeFileAtomic} from '../fs/write-atomic.js'
import {chartPng} from './render-png.js'
import {chartSvg} from './chart-svg.js'
import type {ChartLayout} from './shapes.js'

/** Refuses a plot path that does not end in .svg or .png (before any work is done); no path, no check. */
export function checkChartPath(path: string | undefined, flag = '--plot'): void {
  if (path !== undefined && !/\.(svg|png)$/i.test(path)) {
    throw new UsageError(`${flag} ${path}: the file name must end in .svg or .png`)
  }
}

/** Writes a chart as SVG or PNG (by the file extension), through a temp file and a rename. */
export async function writeChart(params: {layout: ChartLayout; path: string}): Promise<void> {
  const {path, layout} = params
  checkChartPath(path, 'plot')
  const bytes = path.toLowerCase().endsWith('.png') ? chartPng(layout) : chartSvg(layout)
  await writeFileAtomic(path, bytes)
}
