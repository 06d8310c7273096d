import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {hubAccessFlags, mergeEngineFlags, modelLookupOf, outShardSizeOf} from '../../cli/flags.js'
import {renderMergeReport} from '../../cli/render/merge-report.js'
import {renderEvent} from '../../cli/render/events.js'
import {mergeModelIter, type MergeReport} from '../../merge/merge-model.js'

export default class Merge extends DlecCommand {
  static override args = {
    config: Args.string({description: 'mergekit YAML (e.g. written by `dlec plan`).', required: true}),
    out: Args.string({description: 'Output folder (must not exist unless --force).', required: true}),
  }
  static override description =
    'Runs a mergekit passthrough YAML. --engine mergekit runs the real mergekit-yaml; --engine native streams byte ranges from the source safetensors into the output shards with constant memory, bit-identical to mergekit (tensors, dtypes, shard names and sizes), and remaps per-layer config lists such as layer_types that mergekit leaves stale. auto uses mergekit when mergekit-yaml is on PATH, else native. Output goes to a temporary folder beside OUT and is renamed into place, so a failure leaves no OUT.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> plan.yaml merged/',
    '<%= config.bin %> <%= command.id %> plan.yaml merged/ --engine native --out-shard-size 2B',
    '<%= config.bin %> <%= command.id %> plan.yaml merged/ --dry-run',
  ]
  static override flags = {
    ...hubAccessFlags,
    ...mergeEngineFlags,
    'dry-run': Flags.boolean({description: 'Print the copy plan (every output tensor, its source, dtype, scale and shard); write nothing.'}),
  }
  static override summary = 'Merge a model from a mergekit passthrough YAML (mergekit or the native engine).'

  async run(): Promise<MergeReport> {
    const {args, flags} = await this.parse(Merge)
    const params = {
      config: args.config,
      out: args.out,
      engine: flags.engine,
      dryRun: flags['dry-run'],
      outShardSize: outShardSizeOf(flags),
      force: flags.force,
      mergekitPath: flags.mergekit,
      pathEnv: process.env.PATH,
      lookup: modelLookupOf(flags),
    }
    const report = await this.consume((signal) => mergeModelIter({...params, signal}), {render: renderEvent})
    if (!this.jsonEnabled()) {
      for (const w of report.warnings) {
        this.logToStderr(`Warning: ${w}`)
      }
      for (const line of renderMergeReport(report)) {
        this.log(line)
      }
    }
    return report
  }
}
