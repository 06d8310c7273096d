import {basename, resolve} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {evaluationInputsOf, measureFlags, measureOptionsOf, mergeEngineFlags, modelFlags, modelLookupOf, outShardSizeOf, singleStrategy, targetFlags, targetFromFlags} from '../../cli/flags.js'
import {pushAccessFromFlags, pushFlags} from '../../cli/push-flags.js'
import {renderPushEvent, renderPushReport} from '../../cli/render/push-report.js'
import {readCardLicense} from '../../publish/write-measured-card.js'
import {checkPushParams, pushModelIter, type PushReport} from '../../publish/push-model.js'
import {renderEvent} from '../../cli/render/events.js'
import {renderExpandReport} from '../../cli/render/merge-report.js'
import {parseBlockSizes} from '../../curve/candidate-blocks.js'
import {dataHash, recordPlan} from '../../curve/curve-store.js'
import {expandModelIter, type ExpandReport} from '../../expand/expand-model.js'
import {STRATEGIES} from '../../curve/strategies.js'

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
    ...modelFlags,
    ...mergeEngineFlags,
    ...pushFlags,
    push: Flags.string({description: 'After the check, push OUT with its measured card to this Hub repo (org/name), as `dlec push` does.'}),
    ...measureFlags,
    ...targetFlags,
    data: Flags.file({description: 'Held-out evaluation text (plain text, JSONL, Parquet, ShareGPT); required except for --strategy identity.'}),
    db: Flags.string({description: 'DuckDB store: the plan is recorded in its evals table (as `dlec plan` does).', default: 'dlec.duckdb'}),
    dtype: Flags.string({description: 'dtype written into the YAML (e.g. bfloat16).'}),
    out: Flags.directory({description: 'Output model folder.', required: true}),
    strategy: Flags.string({description: `One of ${Object.keys(STRATEGIES).join(', ')}.`, default: 'greedy'}),
  }
  static override summary = 'Plan, merge and check an expanded model in one step.'

  async run(): Promise<ExpandReport & {push?: PushReport}> {
    const {args, flags} = await this.parse(Expand)
    const strategy = singleStrategy(flags.strategy, 'an expansion')
    const target = targetFromFlags(flags)
    const access = pushAccessFromFlags(flags)
    if (flags.push !== undefined) {
      checkPushParams({repo: flags.push, accessToken: access.accessToken})
    }
    const model = await this.loadModelArg(args.model, flags)
    const {texts, holdout, probe} = await evaluationInputsOf(flags)
    const params = {
      ...measureOptionsOf(flags),
      store: flags.db,
      model,
      texts,
      holdout,
      probe,
      target,
      strategy,
      mergekitPath: flags.mergekit,
      dtype: flags.dtype,
      out: flags.out,
      engine: flags.engine,
      force: flags.force,
      outShardSize: outShardSizeOf(flags),
      pathEnv: process.env.PATH,
      modelLookup: modelLookupOf(flags),
      card: {
        name: flags.push?.split('/')[1] ?? basename(resolve(flags.out)),
        baseModel: model.location.revision === undefined ? undefined : model.location.id,
        license: await readCardLicense(model.location.dir),
        data: flags.data === undefined || texts === undefined ? undefined : {name: basename(flags.data), hash: dataHash(texts)},
        search: {candidates: flags.candidates, blockSizes: parseBlockSizes(flags['block-sizes']), objective: flags.objective},
      },
    }
    const r = await this.consume((signal) => expandModelIter({...params, signal}), {render: renderEvent})
    await recordPlan({...r.plan, dbPath: flags.db, model: model.identity, data: texts === undefined ? '' : dataHash(texts)})
    if (!this.jsonEnabled()) {
      if (!r.plan.target.exact) {
        this.warn(r.plan.target.note)
      }
      for (const line of renderExpandReport(r)) {
        this.log(line)
      }
    }
    if (flags.push === undefined) {
      return r
    }
    const message = `dlec expand: ${r.plan.strategy}, ${r.plan.layers.length} layers`
    const push = await this.consume((signal) => pushModelIter({...access, dir: flags.out, repo: flags.push as string, message, signal}), {render: renderPushEvent})
    if (!this.jsonEnabled()) {
      for (const line of renderPushReport(push)) {
        this.log(line)
      }
    }
    return {...r, push}
  }
}
