import {resolve} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {evaluationInputsOf, measureFlags, measureOptionsOf, modelFlags} from '../../cli/flags.js'
import {renderCurveReport} from '../../cli/render/curve-table.js'
import {redrawStoredCurve} from '../../cli/stored-curve.js'
import {UsageError} from '../../errors.js'
import {renderEvent} from '../../cli/render/events.js'
import {blockHeatmap} from '../../curve/block-heatmap.js'
import {curveChart} from '../../curve/curve-charts.js'
import {probeChart} from '../../curve/probe-chart.js'
import {dataHash, loadReusable, measurementOptions, recordCurve, recordCandidates, type StoredCurve} from '../../curve/curve-store.js'
import {withoutRowSums, type EvaluatedCandidate} from '../../curve/expansion-curve.js'
import {profileScores} from '../../curve/profile-scores.js'
import {checkChartPath, writeChart} from '../../plot/write-chart.js'
import {measureCurveIter, type MeasuredCurve} from '../../curve/measure-curve.js'
import {describeStrategies, parseStrategies, STRATEGIES} from '../../curve/strategies.js'

export default class Curve extends DlecCommand {
  static override args = {
    model: Args.string({description: 'Model folder or Hugging Face id (HF cache).', required: true}),
  }
  static override description = `Adds layers one at a time up to --max-add for each strategy and measures the expanded model against the original on held-out text: mean per-token KL(original || expanded), loss change, top-1 agreement, and the parameter count. Candidates run zero-copy (repeated layers share weights) and start from the cached hidden state before their first new layer, so only the changed suffix is recomputed. Every figure carries a 95% paired-bootstrap interval (rows = windows of texts resampled, 1000 resamples, seed 0); greedy and beam race each size's candidates (those clearly worse on a first slice of the rows are dropped; --no-racing measures all on all rows), and a pick within noise of its runner-up is named as such.

Strategies:
${describeStrategies()}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --data fixtures/calibration/stories.txt --max-add 3',
    '<%= config.bin %> <%= command.id %> microsoft/phi-2 --data heldout.jsonl --max-add 6 --strategy greedy,beam,curve --block-sizes 1,2,4 --beam 4',
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --from-db --plot curve.svg',
  ]
  static override flags = {
    ...modelFlags,
    ...measureFlags,
    data: Flags.file({description: 'Held-out evaluation text: plain text (paragraphs), JSONL, Parquet or ShareGPT (see --text-field); required except with --from-db.'}),
    db: Flags.string({description: 'DuckDB store: every measured candidate and curve point goes to its evals table (with its intervals and per-row sums, which a rerun with the same model, data and options reuses); a profile run there supplies the scores.', default: 'dlec.duckdb'}),
    'from-db': Flags.boolean({description: 'Redraw the table and the plots from the newest curve of this model stored in --db (of --data, when given), without measuring.'}),
    heatmap: Flags.file({description: 'Write the heat-map of the measured effect of duplicating each block [i, j) (.svg or .png).'}),
    'heatmap-all': Flags.boolean({description: 'Also measure every block [i, j) of the candidate band (the full RYS-style sweep).'}),
    'max-add': Flags.integer({description: 'Add up to this many layers (required unless --from-db).', min: 1}),
    'no-prefix-cache': Flags.boolean({description: 'Run every candidate from the tokens (naive baseline, for benchmarks).'}),
    plot: Flags.file({description: 'Write the curve (quality vs parameters, one line per strategy) as .svg or .png.'}),
    'probe-plot': Flags.file({description: 'Write the probe trade-off (probe accuracy vs mean KL, with the --max-kl guard) as .svg or .png; needs --probe.'}),
    run: Flags.string({description: 'Profile run in --db whose scores curve / dlec-original use [default: the newest complete run of this model].'}),
    strategy: Flags.string({description: `Comma-separated strategies: ${Object.keys(STRATEGIES).join(', ')}.`, default: 'greedy,curve,identity'}),
  }
  static override summary = 'Measured expansion curve: quality vs parameters as layers are added, per strategy.'

  async run(): Promise<MeasuredCurve | StoredCurve> {
    const {args, flags} = await this.parse(Curve)
    const strategies = parseStrategies(flags.strategy)
    checkChartPath(flags.plot, '--plot')
    checkChartPath(flags.heatmap, '--heatmap')
    checkChartPath(flags['probe-plot'], '--probe-plot')
    if (flags['probe-plot'] !== undefined && flags.probe === undefined) {
      throw new UsageError('--probe-plot draws probe accuracy: give --probe FILE')
    }
    const model = await this.loadModelArg(args.model, flags)
    const inputs = await evaluationInputsOf(flags)
    const {texts} = inputs
    if (flags['from-db']) {
      const log = this.jsonEnabled() ? undefined : (line: string): void => this.log(line)
      return redrawStoredCurve({db: flags.db, model: model.identity, texts, data: flags.data, plot: flags.plot, heatmap: flags.heatmap, probePlot: flags['probe-plot'], holdout: inputs.holdout !== undefined, log})
    }
    if (texts === undefined || flags['max-add'] === undefined) {
      throw new UsageError(`--${texts === undefined ? 'data' : 'max-add'} is required (except with --from-db)`)
    }
    const found = await profileScores({dbPath: flags.db, run: flags.run, numLayers: model.numLayers})
    const sameModel = found !== undefined && [model.identity, args.model].includes(found.model)
    const scores = found && (flags.run !== undefined || sameModel || resolve(found.model) === model.location.dir) ? found : undefined
    const options = measurementOptions({windowSize: flags.window, maxTokens: flags['max-tokens'], batchSize: flags['batch-size'], quant: flags.quant})
    const store = {dbPath: flags.db, model: model.identity, data: dataHash(texts), runId: scores?.runId, options}
    const reuse = await loadReusable({...store, options})
    const measured: EvaluatedCandidate[] = []
    const params = {...measureOptionsOf(flags), store: flags.db, model, texts, holdout: inputs.holdout, probe: inputs.probe, strategies, maxAdd: flags['max-add'], blockInfluence: scores?.blockInfluence, dlecFlagged: scores?.dlecFlagged, heatmapAllBlocks: flags['heatmap-all'], prefixCache: !flags['no-prefix-cache'], reuse}
    const report = await this.consume((signal) => measureCurveIter({...params, signal}), {
      render: (e) => {
        if (e.type === 'evaluated' && e.candidate.reused !== true) {
          measured.push(e.candidate)
        }
        return renderEvent(e)
      },
      // Candidates measured before a signal stay in the store (kind `candidate`), for a rerun to reuse.
      onInterrupt: async () => `kept ${await recordCandidates({...store, candidates: measured})} measured candidate(s) in ${flags.db}`,
    })
    const stored = await recordCurve({...store, report})
    const measuredCharts = [['curve', flags.plot, curveChart], ['heat-map', flags.heatmap, blockHeatmap], ['probe trade-off', flags['probe-plot'], probeChart]] as const
    for (const [, path, chart] of measuredCharts) {
      if (path !== undefined) {
        await writeChart({layout: chart(report), path})
      }
    }
    if (!this.jsonEnabled()) {
      for (const line of renderCurveReport({report, scores, stored, db: flags.db, charts: measuredCharts.map(([what, path]) => [what, path])})) {
        this.log(line)
      }
    }
    return withoutRowSums(report)
  }
}
