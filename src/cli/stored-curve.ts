import {renderStoredCurve} from './render/curve-table.js'
import {blockHeatmap} from '../curve/block-heatmap.js'
import {curveChart} from '../curve/curve-charts.js'
import {dataHash, loadStoredCurve, type StoredCurve} from '../curve/curve-store.js'
import {withoutRowSums} from '../curve/expansion-curve.js'
import {UsageError} from '../errors.js'
import {writeChart} from '../plot/write-chart.js'

/**
 * `dlec curve --from-db`: the newest stored curve of the model (of these texts, when given), its
 * table and plots redrawn without measuring. What needs a measurement (a held-out re-check, the
 * probe trade-off) is refused in one line.
 */
export async function redrawStoredCurve(p: {
  db: string
  model: string
  texts?: string[]
  data?: string
  plot?: string
  heatmap?: string
  probePlot?: string
  holdout: boolean
  log?: (line: string) => void
}): Promise<StoredCurve> {
  if (p.probePlot !== undefined || p.holdout) {
    throw new UsageError(`--from-db redraws stored measurements: ${p.probePlot === undefined ? 'a held-out re-check' : '--probe-plot'} needs a measured curve (drop --from-db)`)
  }
  const stored = await loadStoredCurve({dbPath: p.db, model: p.model, data: p.texts === undefined ? undefined : dataHash(p.texts)})
  if (stored === undefined) {
    throw new UsageError(`${p.db}: no stored curve of ${p.model}${p.texts === undefined ? '' : ` on ${p.data}`}: run \`dlec curve\` without --from-db first`)
  }
  const charts = [['curve', p.plot, curveChart], ['heat-map', p.heatmap, blockHeatmap]] as const
  for (const [, path, chart] of charts) {
    if (path !== undefined) {
      await writeChart({layout: chart(stored), path})
    }
  }
  const {log} = p
  if (log !== undefined) {
    for (const line of renderStoredCurve({report: stored, db: p.db, charts: charts.map(([what, path]) => [what, path])})) {
      log(line)
    }
  }
  return withoutRowSums(stored)
}
