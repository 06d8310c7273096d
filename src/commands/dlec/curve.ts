import {resolve} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {cacheDirOf, measureFlags, resolveModelArg} from '../../cli/flags.js'
import {parseBlockSizes, parseCandidateSpec} from '../../curve/candidate-blocks.js'
import {blockHeatmap, curveChart} from '../../curve/curve-charts.js'
import {dataHash, recordCurve} from '../../curve/curve-store.js'
import {formatCurveTable} from '../../curve/format-curve.js'
import {profileScores} from '../../curve/profile-scores.js'
import {writeChart} from '../../curve/write-chart.js'
import {measureCurveIter, type MeasuredCurve} from '../../curve/measure-curve.js'
import {loadTexts} from '../../data/load-texts.js'
import {loadModelConfig} from '../../model/load-model-config.js'
import {numLayersOf, resolveArchitecture} from '../../architectures/registry.js'
import {parseStrategies, STRATEGIES} from '../../scoring/strategies.js'
import {parseCacheMemory} from '../../curve/parse-cache-memory.js'

async function modelDepth(dir: string): Promise<number> {
  const config = await loadModelConfig(dir)
  return numLayersOf(config, resolveArchitecture(config, `${dir}/config.json`))
}

export default class Curve extends DlecCommand {
  static override args = {
    model: Args.string({description: 'Model folder or Hugging Face id (HF cache).', required: true}),
  }
  static override description = `Adds layers one at a time up to --max-add for each strategy and measures the expanded model against the original on held-out text: mean per-token KL(original || expanded), loss change, top-1 agreement, and the parameter count. Candidates run zero-copy (repeated layers share weights) and start from the cached hidden state before their first new layer, so only the changed suffix is recomputed.

Strategies:
${Object.entries(STRATEGIES)
  .map(([name, what]) => `  ${name}: ${what}`)
  .join('\n')}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --data fixtures/calibration/stories.txt --max-add 3',
    '<%= config.bin %> <%= command.id %> microsoft/phi-2 --data heldout.jsonl --max-add 6 --strategy greedy,beam,curve --block-sizes 1,2,4 --beam 4',
  ]
  static override flags = {
    ...measureFlags,
    data: Flags.file({description: 'Held-out evaluation text: plain text (paragraphs), JSONL, Parquet or ShareGPT (see --text-field).', required: true}),
    db: Flags.string({description: 'DuckDB store: every measured candidate and curve point goes to its evals table; a profile run there supplies the scores.', default: 'dlec.duckdb'}),
    heatmap: Flags.file({description: 'Write the heat-map of the measured effect of duplicating each block [i, j) (.svg or .png).'}),
    'heatmap-all': Flags.boolean({description: 'Also measure every block [i, j) of the candidate band (the full RYS-style sweep).'}),
    'max-add': Flags.integer({description: 'Add up to this many layers.', required: true, min: 1}),
    'no-prefix-cache': Flags.boolean({description: 'Run every candidate from the tokens (naive baseline, for benchmarks).'}),
    plot: Flags.file({description: 'Write the curve (quality vs parameters, one line per strategy) as .svg or .png.'}),
    run: Flags.string({description: 'Profile run in --db whose scores curve / dlec-original use [default: the newest complete run of this model].'}),
    strategy: Flags.string({description: `Comma-separated strategies: ${Object.keys(STRATEGIES).join(', ')}.`, default: 'greedy,curve,identity'}),
  }
  static override summary = 'Measured expansion curve: quality vs parameters as layers are added, per strategy.'

  async run(): Promise<MeasuredCurve> {
    const {args, flags} = await this.parse(Curve)
    const cacheDir = cacheDirOf(flags['cache-dir'])
    const strategies = parseStrategies(flags.strategy)
    const candidates = parseCandidateSpec(flags.candidates)
    const blockSizes = parseBlockSizes(flags['block-sizes'])
    const model = await resolveModelArg(args.model)
    const texts = await loadTexts({path: flags.data, textField: flags['text-field']})
    const numLayers = await modelDepth(model.dir)
    const found = await profileScores({dbPath: flags.db, run: flags.run, numLayers})
    const scores = found && (flags.run !== undefined || found.model === args.model || resolve(found.model) === model.dir) ? found : undefined
    const it = measureCurveIter({
      blockInfluence: scores?.blockInfluence,
      dlecFlagged: scores?.dlecFlagged,
      modelDir: model.dir,
      cacheDir,
      texts,
      strategies,
      maxAdd: flags['max-add'],
      candidates,
      blockSizes,
      beamWidth: flags.beam,
      objective: flags.objective,
      heatmapAllBlocks: flags['heatmap-all'],
      maxTokens: flags['max-tokens'],
      batchSize: flags['batch-size'],
      windowSize: flags.window,
      threads: flags.threads,
      prefixCache: !flags['no-prefix-cache'],
      cacheBytes: parseCacheMemory(flags['cache-memory']),
    })
    const live = !this.jsonEnabled() && process.stderr.isTTY
    let next = await it.next()
    while (next.done !== true) {
      const e = next.value
      if (live && e.type === 'evaluated') {
        process.stderr.write(`\r\u001B[K${e.strategy}: measured ${e.evaluations} candidates (last ${e.label}: KL ${e.measurement.kl.toFixed(4)})`)
      }
      next = await it.next()
    }
    if (live) {
      process.stderr.write('\r\u001B[K')
    }
    const report = next.value
    const stored = await recordCurve({dbPath: flags.db, model: args.model, data: dataHash(texts), runId: scores?.runId, report})
    if (flags.plot !== undefined) {
      await writeChart({layout: curveChart(report), path: flags.plot})
    }
    if (flags.heatmap !== undefined) {
      await writeChart({layout: blockHeatmap(report), path: flags.heatmap})
    }
    if (!this.jsonEnabled()) {
      if (scores) {
        this.log(`scores from profile run ${scores.run}${scores.blockInfluence ? ' (Block Influence)' : ''}${scores.dlecFlagged ? ' (original DLEC rule)' : ''}`)
      }
      if (report.chunkedTexts > 0) {
        this.log(`${report.chunkedTexts} text(s) longer than ${report.windowSize} tokens were chunked`)
      }
      for (const line of formatCurveTable(report)) {
        this.log(line)
      }
      this.log(`${report.evaluations.length} distinct layer sequences measured; ${report.layersRun} layer runs in all; ${stored} rows stored in ${flags.db}`)
      for (const [what, path] of [['curve', flags.plot], ['heat-map', flags.heatmap]] as const) {
        if (path !== undefined) {
          this.log(`wrote ${what} ${path}`)
        }
      }
    }
    return report
  }
}
