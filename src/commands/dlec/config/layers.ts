import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../../cli/base-command.js'
import {modelFlags} from '../../../cli/flags.js'
import {renderLayersTable} from '../../../cli/render/config-report.js'
import {describeLayers, type LayersReport} from '../../../merge/describe-layers.js'

export default class ConfigLayers extends DlecCommand {
  static override args = {
    file: Args.string({description: 'mergekit YAML config.', required: true}),
  }
  static override description =
    'Shows, for every output layer, the source model and layer it is copied from (mergekit order: slices in turn, half-open ranges) and the parameters that apply to it (e.g. scale on the output projections of an identity copy). With --model, also checks the ranges against the model depth and prints depth and parameter count before and after.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> plan.yaml',
    '<%= config.bin %> <%= command.id %> plan.yaml --model fixtures/stories260K',
    '<%= config.bin %> <%= command.id %> plan.yaml --json',
  ]
  static override flags = {
    ...modelFlags,
    model: Flags.string({description: 'The model the config is for: a folder (config.json + safetensors), org/name or org/name@rev (HF cache, else downloaded): depth check, per-tensor parameters, parameter counts.'}),
  }
  static override summary = 'Show the output layer map of a mergekit YAML config.'

  async run(): Promise<LayersReport> {
    const {args, flags} = await this.parse(ConfigLayers)
    const report = await describeLayers({file: args.file, modelDir: flags.model === undefined ? undefined : await this.modelDirArg(flags.model, flags, {what: '--model'})})
    if (!this.jsonEnabled()) {
      for (const w of report.warnings) {
        this.logToStderr(`Warning: ${w}`)
      }
      for (const l of renderLayersTable(report)) {
        this.log(l)
      }
    }
    return report
  }
}
