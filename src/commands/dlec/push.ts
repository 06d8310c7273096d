import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {pushAccessFromFlags, pushFlags} from '../../cli/push-flags.js'
import {renderPushEvent, renderPushReport} from '../../cli/render/push-report.js'
import {pushModelIter, type PushReport} from '../../publish/push-model.js'


export default class Push extends DlecCommand {
  static override args = {
    dir: Args.directory({description: 'Model folder to upload (e.g. the OUT of dlec merge or expand).', required: true}),
  }
  static override description =
    'Uploads a model folder to the Hugging Face Hub as one commit, creating the repo (and the branch) when missing; safetensors go through LFS. The token comes from --token, HF_TOKEN or the token file `hf auth login` writes ($HF_HOME/token, else ~/.cache/huggingface/token) and is never printed. Refused before any upload: a folder without safetensors, a config.json that disagrees with the weights, no token, a file that contains the token.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> out/stories260K-7L --repo me/stories260K-7L',
    '<%= config.bin %> <%= command.id %> phi-2-pro --repo me/phi-2-pro --private --message "phi-2 + 8 identity layers"',
  ]
  static override flags = {
    ...pushFlags,
    message: Flags.string({description: 'Commit title.'}),
    repo: Flags.string({description: 'Hub repo id, org/name.', required: true}),
    revision: Flags.string({description: 'Branch to commit to (created from main when missing).', default: 'main'}),
  }
  static override summary = 'Push a model folder to the Hugging Face Hub (one commit).'

  async run(): Promise<PushReport> {
    const {args, flags} = await this.parse(Push)
    const params = {...pushAccessFromFlags(flags), dir: args.dir, repo: flags.repo, message: flags.message, revision: flags.revision}
    const report = await this.consume((signal) => pushModelIter({...params, signal}), {render: renderPushEvent})
    if (!this.jsonEnabled()) {
      for (const line of renderPushReport(report)) {
        this.log(line)
      }
    }
    return report
  }
}
