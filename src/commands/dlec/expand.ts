import {isAbsolute, resolve} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {cacheDirOf, measureFlags, mergeEngineFlags, targetFlags, targetFromFlags} from '../../cli/flags.js'
import {modelLookupFromEnv} from '../../cli/hub-env.js'
import {renderMergeReport} from '../../cli/render/merge-report.js'
import {MergeProgress} from '../../cli/render/progress-merge.js'
import {parseBlockSizes, parseCandidateSpec} from '../../curve/candidate-blocks.js'
import {dataHash, recordPlan} from '../../curve/curve-store.js'
import {parseCacheMemory} from '../../curve/parse-cache-memory.js'
import {expandModelIter, type ExpandReport} from '../../expand/expand-model.js'
import {loadTexts} from '../../data/load-texts.js'
import {parseShardSize} from '../../merge/parse-shard-size.js'
import type {MergeEvent} from '../../merge/merge-event.js'
import {resolveModel} from '../../model/resolve-model.js'
import {formatDuplications, formatLayerSequence} from '../../scoring/layer-plan.js'
import {STRATEGIES, parseStrategies} from '../../scoring/strategies.js'
import {fmt} from '../../scoring/target-size.js'
import {UsageError} from '../../errors.js'

export default class Expand extends DlecCommand {
  static override args = {
    model: Args.string({description: 'Model folder or Hugging Face id (HF cache).', required: true}),
  }
  static override description =
    'The whole pipeline: measures candidate duplications on --data (zero-copy ONNX graphs), picks the layers for the target size, writes the mergekit passthrough YAML, merges it (mergekit-yaml when installed, else the native engine) into OUT, and evaluates the merged folder on the same data to check that its loss is the one the plan measured.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --add-layers 2 --data fixtures/calibration/stories.txt --out out/stories260K-7L',
    '<%= config.bin %> <%= command.id %> microsoft/phi-2 --target-params 3.25B --strategy identity --out phi-2-pro --engine native',
  ]
  static override flags = {
    ...mergeEngineFlags,
    ...measureFlags,
    ...targetFlags,
    data: Flags.file({description: 'Held-out evaluation text (plain text, JSONL, Parquet, ShareGPT); required except for --strategy identity.'}),
    db: Flags.string({description: 'DuckDB store: the plan is recorded in its evals table (as `dlec plan` does).', default: 'dlec.duckdb'}),
    dtype: Flags.string({description: 'dtype written into the YAML (e.g. bfloat16).'}),
    out: Flags.directory({description: 'Output model folder.', required: true}),
    strategy: Flags.string({description: `One of ${Object.keys(STRATEGIES).join(', ')}.`, default: 'greedy'}),
  }
  static override summary = 'Plan, merge and check an expanded model in one step.'

  async run(): Promise<ExpandReport> {
    const {args, flags} = await this.parse(Expand)
    const strategies = parseStrategies(flags.strategy)
    if (strategies.length !== 1) {
      throw new UsageError('--strategy takes one strategy for an expansion (dlec curve compares several)')
    }
    const target = targetFromFlags(flags)
    const lookup = modelLookupFromEnv(process.env)
    const model = await resolveModel({model: args.model, ...lookup})
    // A local model is named by its absolute path in the YAML, so the merge finds it from anywhere.
    const modelRef = model.revision === undefined ? (isAbsolute(model.dir) ? model.dir : resolve(model.dir)) : model.id
    const texts = flags.data === undefined ? undefined : await loadTexts({path: flags.data, textField: flags['text-field']})
    const progress = this.jsonEnabled() ? undefined : new MergeProgress()
    const controller = new AbortController()
    const onSigint = (): void => controller.abort()
    process.once('SIGINT', onSigint)
    try {
      const it = expandModelIter({
        modelDir: model.dir,
        modelRef,
        cacheDir: cacheDirOf(flags['cache-dir']),
        texts,
        target,
        strategy: strategies[0] as ExpandReport['plan']['strategy'],
        candidates: parseCandidateSpec(flags.candidates),
        blockSizes: parseBlockSizes(flags['block-sizes']),
        beamWidth: flags.beam,
        objective: flags.objective,
        windowSize: flags.window,
        mergekitPath: flags.mergekit,
        dtype: flags.dtype,
        maxTokens: flags['max-tokens'],
        batchSize: flags['batch-size'],
        threads: flags.threads,
        cacheBytes: parseCacheMemory(flags['cache-memory']),
        out: flags.out,
        engine: flags.engine,
        force: flags.force,
        outShardSize: parseShardSize(flags['out-shard-size']),
        pathEnv: process.env.PATH,
        modelLookup: lookup,
        signal: controller.signal,
      })
      let next = await it.next()
      while (next.done !== true) {
        const event = next.value
        if (event.type === 'phase') {
          progress?.stop()
          if (!this.jsonEnabled()) {
            this.logToStderr(`== ${event.phase}`)
          }
        } else if (isMergeEvent(event)) {
          progress?.handle(event)
        }
        next = await it.next()
      }
      progress?.stop()
      const r = next.value
      await recordPlan({...r.plan, dbPath: flags.db, model: args.model, data: texts === undefined ? '' : dataHash(texts)})
      if (!this.jsonEnabled()) {
        this.render(r)
      }
      return r
    } finally {
      progress?.stop()
      process.removeListener('SIGINT', onSigint)
    }
  }

  private render(r: ExpandReport): void {
    const {plan, merge, check} = r
    if (!plan.target.exact) {
      this.warn(plan.target.note)
    }
    this.log(`strategy    ${plan.strategy}: duplicates ${formatDuplications(plan.duplications)}`)
    this.log(`layers      ${plan.layers.length} (was ${plan.layers.length - plan.target.addLayers}): ${formatLayerSequence(plan.layers)}`)
    this.log(`parameters  ${fmt(plan.paramsBefore)} -> ${fmt(plan.paramsAfter)}`)
    this.log(`plan        mean KL ${plan.kl.toFixed(5)}   Δloss ${plan.lossDelta >= 0 ? '+' : ''}${plan.lossDelta.toFixed(5)}   top-1 ${(100 * plan.top1).toFixed(1)}%`)
    for (const line of renderMergeReport(merge)) {
      this.log(line)
    }
    if (check) {
      const err = check.planLossError === undefined ? '' : `   |Δ vs plan| ${check.planLossError.toExponential(1)}`
      this.log(`check       merged model loss ${check.loss.toFixed(5)}   perplexity ${check.perplexity.toFixed(3)} on ${check.tokens} tokens${err}`)
    }
  }
}

function isMergeEvent(event: {type: string}): event is MergeEvent {
  return ['start', 'progress', 'stage', 'done'].includes(event.type)
}
