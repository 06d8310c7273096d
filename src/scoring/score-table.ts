import type {ParquetColumn} from '../store/export-parquet.js'
import type {ScoreReport} from './score-run.js'

/** The score report as flat columns (one row per layer): what table, CSV and Parquet output show. */
export function scoreColumns(report: ScoreReport): ParquetColumn[] {
  const rows = report.layers
  const maxBlock = Math.max(1, ...rows.map((r) => r.angular.filter((a) => a !== null).length))
  const columns: ParquetColumn[] = [
    {name: 'layer', type: 'INTEGER', values: rows.map((r) => r.layer)},
    {name: 'source_layer', type: 'INTEGER', values: rows.map((r) => r.sourceLayer)},
    {name: 'block_influence', type: 'DOUBLE', values: rows.map((r) => r.blockInfluence)},
  ]
  for (let n = 1; n <= maxBlock; n++) {
    columns.push({name: `angular_${n}`, type: 'DOUBLE', values: rows.map((r) => r.angular[n - 1] ?? null)})
  }
  columns.push(
    {name: 'norm_growth', type: 'DOUBLE', values: rows.map((r) => r.normGrowth)},
    {name: 'dlec_original', type: 'BOOLEAN', values: rows.map((r) => r.dlecOriginal)},
    {name: 'dlec_corrected', type: 'BOOLEAN', values: rows.map((r) => r.dlecCorrected)},
    {name: 'tokens', type: 'INTEGER', values: rows.map((r) => r.tokens)},
  )
  return columns
}

/** RFC 4180 CSV of the score columns (empty field for null). */
export function scoreCsv(report: ScoreReport): string {
  const columns = scoreColumns(report)
  const rowCount = columns[0]?.values.length ?? 0
  const lines = [columns.map((c) => c.name).join(',')]
  for (let r = 0; r < rowCount; r++) {
    lines.push(columns.map((c) => csvField(c.values[r] ?? null)).join(','))
  }
  return `${lines.join('\n')}\n`
}

/** A fixed-width text table of the score columns (4 decimals). */
export function scoreTable(report: ScoreReport): string {
  const columns = scoreColumns(report)
  const cells = columns.map((c) => [c.name, ...c.values.map((v) => textCell(v ?? null))])
  const widths = cells.map((col) => Math.max(...col.map((s) => s.length)))
  const rowCount = cells[0]?.length ?? 0
  const lines: string[] = []
  for (let r = 0; r < rowCount; r++) {
    lines.push(cells.map((col, i) => (col[r] ?? '').padStart(widths[i] ?? 0)).join('  '))
  }
  return lines.join('\n')
}

function textCell(v: number | string | boolean | null): string {
  if (v === null) {
    return '-'
  }
  if (typeof v === 'boolean') {
    return v ? 'yes' : 'no'
  }
  if (typeof v === 'number' && !Number.isInteger(v)) {
    return v.toFixed(4)
  }
  return String(v)
}

function csvField(v: number | string | boolean | null): string {
  if (v === null) {
    return ''
  }
  const s = String(v)
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}
