import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../../cli/base-command.js'
import {modelFlags} from '../../../cli/flags.js'
import {renderConfigReport} from '../../../cli/render/config-report.js'
import type {ConfigReport} from '../../../merge/describe-layers.js'
import {validateMergeConfigFile} from '../../../merge/validate-merge-config-file.js'

export default class ConfigValidate extends DlecCommand {
  static override args = {
    file: Args.string({description: 'mergekit YAML config (e.g. a plan written by `dlec plan`).', required: true}),
  }
  static override description =
    'Checks a mergekit YAML the way mergekit reads it (PyYAML semantics, its schema), and refuses up front what mergekit would only fail on mid-merge: start > end, two sources in a passthrough slice, an unknown dtype, and (with --model) ranges past the model depth. Unknown keys and empty [n, n] ranges are warnings.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> plan.yaml',
    '<%= config.bin %> <%= command.id %> plan.yaml --model fixtures/stories260K --json',
  ]
  static override flags = {
    ...modelFlags,
    model: Flags.string({description: 'The model the config is for: a folder (config.json + safetensors), org/name or org/name@rev (HF cache, else downloaded): depth check, per-tensor parameters, parameter counts.'}),
  }
  static override summary = 'Validate a mergekit YAML config.'

  async run(): Promise<ConfigReport> {
    const {args, flags} = await this.parse(ConfigValidate)
    const report = await validateMergeConfigFile({file: args.file, modelDir: flags.model === undefined ? undefined : await this.modelDirArg(flags.model, flags, {what: '--model'})})
    if (!this.jsonEnabled()) {
      for (const w of report.warnings) {
        this.logToStderr(`Warning: ${w}`)
      }
      for (const l of renderConfigReport(report)) {
        this.log(l)
      }
    }
    return report
  }
}
