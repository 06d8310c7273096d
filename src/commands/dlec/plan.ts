import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {cacheDirOf, measureFlags, resolveModelArg, targetFlags, targetFromFlags} from '../../cli/flags.js'
import {parseBlockSizes, parseCandidateSpec} from '../../curve/candidate-blocks.js'
import {dataHash, findCurvePoint, recordPlan} from '../../curve/curve-store.js'
import {planExpansionIter, type PlanReport} from '../../curve/plan-expansion.js'
import {loadTexts} from '../../data/load-texts.js'
import {formatDuplications, formatLayerSequence} from '../../scoring/layer-plan.js'
import {STRATEGIES, parseStrategies} from '../../scoring/strategies.js'
import {fmt} from '../../scoring/target-size.js'
import {UsageError} from '../../errors.js'
import {parseCacheMemory} from '../../curve/parse-cache-memory.js'

export default class Plan extends DlecCommand {
  static override args = {
    model: Args.string({description: 'Model folder or Hugging Face id (HF cache).', required: true}),
  }
  static override description = `Chooses which layers to duplicate for a target size and writes the mergekit passthrough YAML (half-open layer_range slices; identity copies get scale 0 on the output projections). Parameter targets that fall between two layer counts are rounded to the nearest achievable size, and the command says so. Prints the layer sequence, the parameter count before and after, and the plan's measured KL / loss change on --data.

Strategies:
${Object.entries(STRATEGIES)
  .map(([name, what]) => `  ${name}: ${what}`)
  .join('\n')}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --add-layers 2 --data fixtures/calibration/stories.txt --out plan.yaml',
    '<%= config.bin %> <%= command.id %> microsoft/phi-2 --target-params 3.25B --strategy identity --out phi-2-pro.yaml',
    '<%= config.bin %> <%= command.id %> microsoft/phi-2 --growth 16% --strategy greedy --block-sizes 1,2 --data heldout.jsonl --out plan.yaml',
  ]
  static override flags = {
    ...measureFlags,
    ...targetFlags,
    data: Flags.file({description: 'Held-out evaluation text (plain text, JSONL, Parquet, ShareGPT); required except for --strategy identity and --from-db.'}),
    db: Flags.string({description: 'DuckDB store: the plan is recorded in its evals table; --from-db reads curve points from it.', default: 'dlec.duckdb'}),
    'from-db': Flags.boolean({description: 'Take the plan from the newest matching point a `dlec curve` run stored in --db (no measuring).'}),
    dtype: Flags.string({description: 'dtype written into the YAML (e.g. bfloat16).'}),
    out: Flags.file({description: 'Where to write the mergekit YAML.', required: true}),
    strategy: Flags.string({description: `One of ${Object.keys(STRATEGIES).join(', ')}.`, default: 'greedy'}),
  }
  static override summary = 'Pick the layers to duplicate for a target size; write mergekit YAML.'

  async run(): Promise<PlanReport> {
    const {args, flags} = await this.parse(Plan)
    const cacheDir = cacheDirOf(flags['cache-dir'])
    const strategies = parseStrategies(flags.strategy)
    if (strategies.length !== 1) {
      throw new UsageError('--strategy takes one strategy for a plan (dlec curve compares several)')
    }
    const strategy = strategies[0] as PlanReport['strategy']
    const target = targetFromFlags(flags)
    const model = await resolveModelArg(args.model)
    const texts = flags.data === undefined ? undefined : await loadTexts({path: flags.data, textField: flags['text-field']})
    const data = texts === undefined ? undefined : dataHash(texts)
    const it = planExpansionIter({
      storedPoint: flags['from-db'] ? (s, added) => findCurvePoint({dbPath: flags.db, model: args.model, data, strategy: s, added}) : undefined,
      modelDir: model.dir,
      modelRef: model.revision === undefined ? model.dir : model.id,
      cacheDir,
      texts,
      target,
      strategy,
      candidates: parseCandidateSpec(flags.candidates),
      blockSizes: parseBlockSizes(flags['block-sizes']),
      beamWidth: flags.beam,
      objective: flags.objective,
      dtype: flags.dtype,
      out: flags.out,
      maxTokens: flags['max-tokens'],
      batchSize: flags['batch-size'],
      windowSize: flags.window,
      threads: flags.threads,
      cacheBytes: parseCacheMemory(flags['cache-memory']),
    })
    let next = await it.next()
    while (next.done !== true) {
      next = await it.next()
    }
    const r = next.value
    await recordPlan({...r, dbPath: flags.db, model: args.model, data: data ?? ''})
    if (!this.jsonEnabled()) {
      if (!r.target.exact) {
        this.warn(r.target.note)
      }
      this.log(`target      ${r.target.note}`)
      this.log(`strategy    ${r.strategy}: duplicates ${formatDuplications(r.duplications)}${r.identityCopies ? ' (identity copies: output projections scaled by 0)' : ''}`)
      this.log(`layers      ${r.layers.length} (was ${r.layers.length - r.target.addLayers}): ${formatLayerSequence(r.layers)}`)
      this.log(`parameters  ${fmt(r.paramsBefore)} -> ${fmt(r.paramsAfter)}`)
      const how = r.source === 'construction' ? 'by construction' : r.source === 'store' ? `from ${flags.db}` : `measured on ${r.tokens} tokens`
      const loss = r.loss === undefined ? '' : `   loss ${r.loss.toFixed(5)}`
      this.log(`quality     mean KL ${r.kl.toFixed(5)}   Δloss ${r.lossDelta >= 0 ? '+' : ''}${r.lossDelta.toFixed(5)}${loss}   top-1 ${(100 * r.top1).toFixed(1)}% (${how})`)
      this.log(`wrote       ${r.out} (plan recorded in ${flags.db})`)
    }
    return r
  }
}
