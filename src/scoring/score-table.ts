import type {ParquetColumn} from '../store/export-parquet.js'
import type {ScoreReport} from './score-run.js'

type ScoreRow = ScoreReport['layers'][number]

/** One score of a layer as a column (or a family of columns) of the table, CSV and Parquet output. */
export interface ScoreMetric {
  description: string
  columns: (rows: readonly ScoreRow[]) => ParquetColumn[]
}

const column = (name: string, type: ParquetColumn['type'], value: (r: ScoreRow) => ParquetColumn['values'][number]) => (rows: readonly ScoreRow[]): ParquetColumn[] => [
  {name, type, values: rows.map(value)},
]

/** The per-layer scores dlec reports, in column order: the one registry the table, CSV, Parquet and README share. */
export const SCORE_METRICS = {
  layer: {description: 'position in the profiled layer sequence', columns: column('layer', 'INTEGER', (r) => r.layer)},
  source_layer: {description: 'the model layer at that position', columns: column('source_layer', 'INTEGER', (r) => r.sourceLayer)},
  block_influence: {description: 'Block Influence (ShortGPT): 1 - mean cos(h_in, h_out) over positions >= 1', columns: column('block_influence', 'DOUBLE', (r) => r.blockInfluence)},
  angular: {
    description: 'angular distance arccos(cos(h_l, h_(l+n)))/pi of the block [l, l+n), n = 1..8 (the seam cost of duplicating it)',
    columns: (rows) => {
      const maxBlock = Math.max(1, ...rows.map((r) => r.angular.filter((a) => a !== null).length))
      return Array.from({length: maxBlock}, (_, i) => ({name: `angular_${i + 1}`, type: 'DOUBLE' as const, values: rows.map((r) => r.angular[i] ?? null)}))
    },
  },
  norm_growth: {description: 'mean ||h_out|| / mean ||h_in||', columns: column('norm_growth', 'DOUBLE', (r) => r.normGrowth)},
  dlec_original: {description: "the original DLEC rule's verdict, as its notebook ran it (needs --raw first-token)", columns: column('dlec_original', 'BOOLEAN', (r) => r.dlecOriginal)},
  dlec_corrected: {description: 'the DLEC rule corrected (block ids, positions >= 1; needs --raw sample:K)', columns: column('dlec_corrected', 'BOOLEAN', (r) => r.dlecCorrected)},
  tokens: {description: 'tokens the scores average over', columns: column('tokens', 'INTEGER', (r) => r.tokens)},
} as const satisfies Record<string, ScoreMetric>

/** The score report as flat columns (one row per layer): what table, CSV and Parquet output show. */
export function scoreColumns(report: ScoreReport): ParquetColumn[] {
  return Object.values(SCORE_METRICS).flatMap((m: ScoreMetric) => m.columns(report.layers))
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
