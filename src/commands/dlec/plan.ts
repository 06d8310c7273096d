import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {evaluationInputsOf, measureFlags, measureOptionsOf, modelFlags, singleStrategy, targetFlags, targetFromFlags} from '../../cli/flags.js'
import {renderEvent} from '../../cli/render/events.js'
import {renderPlanLines, renderPlanNotes, renderPlanQuality} from '../../cli/render/plan-report.js'
import {renderPlanChecks} from '../../cli/render/holdout-report.js'
import {dataHash, findCurvePoint, recordPlan} from '../../curve/curve-store.js'
import {planExpansionIter, type PlanReport} from '../../curve/plan-expansion.js'
import {PLAN_FORMATS} from '../../curve/plan-format.js'
import {describeStrategies, STRATEGIES} from '../../curve/strategies.js'

export default class Plan extends DlecCommand {
  static override args = {
    model: Args.string({description: 'Model folder or Hugging Face id (HF cache).', required: true}),
  }
  static override description = `Chooses which layers to duplicate for a target size and writes the mergekit passthrough YAML (half-open layer_range slices; identity copies get scale 0 on the output projections, soft copies the chosen α). Parameter targets that fall between two layer counts are rounded to the nearest achievable size, and the command says so. Prints the layer sequence, the parameter count before and after, and the plan's measured KL / loss change on --data.

Strategies:
${describeStrategies()}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --add-layers 2 --data fixtures/calibration/stories.txt --out plan.yaml',
    '<%= config.bin %> <%= command.id %> microsoft/phi-2 --target-params 3.25B --strategy identity --out phi-2-pro.yaml',
    '<%= config.bin %> <%= command.id %> microsoft/phi-2 --growth 16% --strategy greedy --block-sizes 1,2 --data heldout.jsonl --out plan.yaml',
  ]
  static override flags = {
    ...modelFlags,
    ...measureFlags,
    ...targetFlags,
    data: Flags.file({description: 'Held-out evaluation text (plain text, JSONL, Parquet, ShareGPT); required except for --strategy identity and --from-db.'}),
    format: Flags.option({description: 'What --out gets: mergekit passthrough YAML, a PEFT LoRA adapter_config.json with layer_replication (weights shared, a LoRA per copy), or the comma-separated layer list.', options: PLAN_FORMATS, default: 'mergekit'})(),
    db: Flags.string({description: 'DuckDB store: the plan is recorded in its evals table; --from-db reads curve points from it.', default: 'dlec.duckdb'}),
    'from-db': Flags.boolean({description: 'Take the plan from the newest matching point a `dlec curve` run stored in --db (no measuring).'}),
    dtype: Flags.string({description: 'dtype written into the YAML (e.g. bfloat16).'}),
    out: Flags.file({description: 'Where to write the mergekit YAML.', required: true}),
    strategy: Flags.string({description: `One of ${Object.keys(STRATEGIES).join(', ')}.`, default: 'greedy'}),
  }
  static override summary = 'Pick the layers to duplicate for a target size; write mergekit YAML.'

  async run(): Promise<PlanReport> {
    const {args, flags} = await this.parse(Plan)
    const strategy = singleStrategy(flags.strategy, 'a plan')
    const model = await this.loadModelArg(args.model, flags)
    const {texts, holdout, probe} = await evaluationInputsOf(flags)
    const data = texts === undefined ? undefined : dataHash(texts)
    const storedPoint = flags['from-db'] ? (s: typeof strategy, added: number) => findCurvePoint({dbPath: flags.db, model: model.identity, data, strategy: s, added}) : undefined
    const params = {...measureOptionsOf(flags), store: flags.db, model, storedPoint, texts, holdout, probe, target: targetFromFlags(flags), strategy, dtype: flags.dtype, out: flags.out, format: flags.format}
    const r = await this.consume((signal) => planExpansionIter({...params, signal}), {render: renderEvent})
    await recordPlan({...r, dbPath: flags.db, model: model.identity, data: data ?? ''})
    if (!this.jsonEnabled()) {
      this.log(`target      ${r.target.note}`)
      for (const line of renderPlanLines(r)) {
        this.log(line)
      }
      const how = r.source === 'construction' ? 'by construction' : r.source === 'store' ? `from ${flags.db}` : `measured on ${r.tokens} tokens`
      this.log(`${r.holdout === undefined ? 'quality  ' : 'selection'}   ${renderPlanQuality(r, how)}`)
      for (const line of [...renderPlanNotes(r), ...renderPlanChecks(r)]) {
        this.log(line)
      }
      this.log(`wrote       ${r.out} (${r.format}; plan recorded in ${flags.db})`)
    }
    return r
  }
}
