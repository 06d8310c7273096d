import {writeFileAtomicSync} from '../../fs/write-atomic.js'
import {Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {UsageError} from '../../errors.js'
import {scoreChart} from '../../plot/score-plot.js'
import {checkChartPath, writeChart} from '../../plot/write-chart.js'
import {scoreRun, type ScoreReport} from '../../scoring/score-run.js'
import {scoreColumns, scoreCsv} from '../../scoring/score-table.js'
import {renderScoreText} from '../../cli/render/score-report.js'
import {exportParquet} from '../../store/export-parquet.js'
import {exportRunTables} from '../../store/export-run.js'

export default class Score extends DlecCommand {
  static override description =
    'Per-layer scores of a profile run, computed as SQL over the statistics `dlec profile` stored (positions >= 1): Block Influence (1 - mean cos(h_in, h_out)), angular distance of the blocks [l, l+n) for n = 1..8 (the seam cost of duplicating that block), norm growth, and the DLEC rule twice: as the original notebook ran it (its hidden_states ids, label 0 = embeddings; its q-vs-z units) and corrected (block ids, positions >= 1, consistent units). The DLEC rules need raw activations (profile with --raw first-token or --raw sample:K).'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --db dlec.duckdb --run run-1 --plot scores.svg',
    '<%= config.bin %> <%= command.id %> --format parquet --output scores.parquet',
    '<%= config.bin %> <%= command.id %> --json',
  ]
  static override flags = {
    bins: Flags.integer({description: 'Histogram bins of the original DLEC rule (its num_bins).', default: 100, min: 1}),
    db: Flags.string({description: 'The DuckDB file written by `dlec profile`.', default: 'dlec.duckdb'}),
    'export-dir': Flags.string({description: "Also write the run's stored tables (runs, layer_stats, block_stats, neuron_stats, activations) as Parquet files into this folder."}),
    format: Flags.option({description: 'Output format.', options: ['table', 'json', 'csv', 'parquet'] as const, default: 'table'})(),
    output: Flags.string({char: 'o', description: 'Write the table here instead of stdout (required for --format parquet).'}),
    plot: Flags.string({description: 'Also draw the scores over depth to this .svg or .png file.'}),
    run: Flags.string({description: 'Run name or id [default: the newest complete run].'}),
  }
  static override summary = 'Layer scores (Block Influence, block angular distance, norm growth, DLEC rule) from a profile run.'

  async run(): Promise<ScoreReport> {
    const {flags} = await this.parse(Score)
    if (flags.format === 'parquet' && flags.output === undefined) {
      throw new UsageError('--format parquet needs --output FILE')
    }
    checkChartPath(flags.plot)
    const report = await scoreRun({dbPath: flags.db, run: flags.run, bins: flags.bins})
    if (flags['export-dir'] !== undefined) {
      const exported = await exportRunTables({dbPath: flags.db, run: report.run.name, outDir: flags['export-dir']})
      if (!this.jsonEnabled()) {
        this.logToStderr(`exported ${Object.entries(exported.files).map(([f, n]) => `${f} (${n} rows)`).join(', ')}`)
      }
    }
    if (flags.plot !== undefined) {
      await writeChart({layout: scoreChart(report), path: flags.plot})
    }
    if (flags.format === 'parquet' && flags.output !== undefined) {
      await exportParquet({path: flags.output, columns: scoreColumns(report)})
    } else if (!this.jsonEnabled()) {
      const text = flags.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : flags.format === 'csv' ? scoreCsv(report) : renderScoreText(report)
      if (flags.output === undefined) {
        process.stdout.write(text)
      } else {
        writeFileAtomicSync(flags.output, text)
      }
    }
    if (flags.plot !== undefined && !this.jsonEnabled()) {
      // stderr, as --export-dir's line: stdout may be the CSV / JSON table itself.
      this.logToStderr(`wrote plot ${flags.plot}`)
    }
    return report
  }
}
