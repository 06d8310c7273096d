import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {decoderFlags, decoderOptionsOf, modelFlags} from '../../cli/flags.js'
import {renderEvent} from '../../cli/render/events.js'
import {renderGenerateReport} from '../../cli/render/generate-report.js'
import {parseLayerList} from '../../cli/layer-list.js'
import {UsageError} from '../../errors.js'
import {planLayers} from '../../eval/plan-layers.js'
import {generateIter, type GenerateReport} from '../../generate/generate.js'

export default class Generate extends DlecCommand {
  static override args = {
    model: Args.string({description: 'Model folder, or Hugging Face id (found in / downloaded to the HF cache).', required: true}),
  }
  static override description =
    'Continues the prompt with the model, or with a layer sequence of it run zero-copy (repeated layers share weights), before anything is merged: greedy by default, sampled with --temperature (and --top-k, --seed). Decoding uses a KV-cache graph: the prompt runs once, then each new token runs alone through the layers, every copy of a repeated layer keeping its own cache. The text streams to stdout; the token count and speed go to stderr.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --prompt "Once upon a time" --max-new-tokens 64',
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --layers 0,1,2,3,3,4 --prompt "Once upon a time" --temperature 0.8 --top-k 40 --seed 1',
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --plan plan.yaml --prompt "Once upon a time" --json',
  ]
  static override flags = {
    ...modelFlags,
    ...decoderFlags,
    layers: Flags.string({description: 'Layer sequence to run, e.g. 0,1,2,2,3 (0-based, repeats allowed).', exclusive: ['plan']}),
    'max-new-tokens': Flags.integer({description: 'Tokens to generate at most (fewer when an end-of-sequence token comes).', default: 64, min: 1}),
    plan: Flags.file({description: 'mergekit passthrough YAML whose layer sequence to run.', exclusive: ['layers']}),
    prepack: Flags.boolean({description: 'Pre-pack the weights: faster steps, but each position of the layer sequence holds its own packed copy (--no-prepack: share the memory-mapped weights).', default: true, allowNo: true}),
    prompt: Flags.string({description: 'The text to continue (encoded with the model tokenizer, BOS as it adds).', required: true}),
    seed: Flags.integer({description: 'Seed of the sampler [default: drawn, and reported].', min: 0}),
    temperature: Flags.string({description: 'Sampling temperature; 0 is greedy.', default: '0'}),
    'top-k': Flags.integer({description: 'Sample among the k most likely tokens only.', min: 1}),
  }
  static override summary = 'Greedy or sampled text from a model or a zero-copy layer sequence (KV cache).'

  async run(): Promise<GenerateReport> {
    const {args, flags} = await this.parse(Generate)
    const temperature = Number(flags.temperature)
    if (flags.temperature.trim() === '' || !Number.isFinite(temperature) || temperature < 0) {
      throw new UsageError(`--temperature ${flags.temperature}: expected a number >= 0 (0 = greedy)`)
    }
    const model = await this.loadModelArg(args.model, flags)
    let layers: number[] | undefined
    let scales: Awaited<ReturnType<typeof planLayers>>['scales'] | undefined
    if (flags.layers !== undefined) {
      layers = parseLayerList(flags.layers)
    } else if (flags.plan !== undefined) {
      const plan = await planLayers({file: flags.plan, model})
      ;({layers, scales} = plan)
      for (const w of plan.warnings) {
        this.warn(w)
      }
    }
    const params = {...decoderOptionsOf(flags), model, layers, scales, prompt: flags.prompt, maxNewTokens: flags['max-new-tokens'], temperature, topK: flags['top-k'], seed: flags.seed, prepack: flags.prepack}
    const human = !this.jsonEnabled()
    let started = false
    const report = await this.consume((signal) => generateIter({...params, signal}), {
      render: (e) => {
        if (e.type !== 'token') {
          return renderEvent(e)
        }
        // The text streams to stdout as it comes (the prompt first).
        if (human) {
          process.stdout.write(`${started ? '' : flags.prompt}${e.text}`)
          started = true
        }
        return undefined
      },
    })
    if (human) {
      process.stdout.write('\n')
      for (const line of renderGenerateReport(report)) {
        this.logToStderr(line)
      }
    }
    return report
  }
}
