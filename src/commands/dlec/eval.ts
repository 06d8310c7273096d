import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {decoderFlags, decoderOptionsOf, modelFlags} from '../../cli/flags.js'
import {parseLayerList} from '../../cli/layer-list.js'
import {renderEvent} from '../../cli/render/events.js'
import {renderEval} from '../../cli/render/eval-report.js'
import {loadTexts} from '../../data/load-texts.js'
import {evaluateIter, type EvalReport} from '../../eval/evaluate.js'
import {planLayers, type PlanLayers} from '../../eval/plan-layers.js'
import {readProbeItems} from '../../eval/probe.js'

export default class Eval extends DlecCommand {
  static override args = {
    model: Args.string({description: 'Model folder, or Hugging Face id (found in / downloaded to the HF cache).', required: true}),
  }
  static override description =
    'Runs the model (or a layer sequence of it, zero-copy: repeated layers share weights) over the data with ONNX Runtime and reports mean cross-entropy and perplexity, and against the original model on the same tokens: mean per-token KL(original || candidate), top-1 agreement and the loss change. Texts longer than the window are chunked (each window starts with BOS). --probe adds multiple-choice accuracy by log-likelihood.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --data fixtures/calibration/stories.txt',
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --layers 0,1,2,3,3,4 --data fixtures/calibration/stories.txt',
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --plan plan.yaml --data texts.jsonl --text-field text --json',
  ]
  static override flags = {
    ...modelFlags,
    ...decoderFlags,
    base: Flags.string({description: 'Compare against this model (folder or Hub id) on the same tokens, e.g. the original of a merged folder [default: the model itself].', exclusive: ['layers', 'plan']}),
    'batch-size': Flags.integer({description: 'Rows per forward pass.', default: 4, min: 1}),
    data: Flags.file({description: 'Evaluation data: plain text (paragraphs), JSONL / JSON (--text-field), Parquet, ShareGPT conversations.', required: true}),
    layers: Flags.string({description: 'Layer sequence to evaluate, e.g. 0,1,2,2,3 (0-based, repeats allowed).', exclusive: ['plan']}),
    'max-tokens': Flags.integer({description: 'Evaluate at most this many tokens.', min: 2}),
    plan: Flags.file({description: 'mergekit passthrough YAML whose layer sequence to evaluate.', exclusive: ['layers']}),
    probe: Flags.file({description: 'Multiple-choice JSONL ({"question", "choices", "answer"}): accuracy by log-likelihood.'}),
    'text-field': Flags.string({description: 'JSONL field holding the text.', default: 'text'}),
    window: Flags.integer({description: 'Tokens per row; longer texts are chunked [default: model positions, at most 1024].', min: 2}),
  }
  static override summary = 'Loss, perplexity and distance to the original of a model or a layer sequence.'

  async run(): Promise<EvalReport> {
    const {args, flags} = await this.parse(Eval)
    const model = await this.loadModelArg(args.model, flags)
    const base = flags.base === undefined ? undefined : await this.loadModelArg(flags.base, flags, {revision: false, what: '--base'})
    let layers: number[] | undefined
    let scales: PlanLayers['scales'] | undefined
    if (flags.layers !== undefined) {
      layers = parseLayerList(flags.layers)
    } else if (flags.plan !== undefined) {
      const plan = await planLayers({file: flags.plan, model})
      layers = plan.layers
      scales = plan.scales
      for (const w of plan.warnings) {
        this.warn(w)
      }
    }
    const texts = await loadTexts({path: flags.data, textField: flags['text-field']})
    const probe = flags.probe === undefined ? undefined : await readProbeItems(flags.probe)
    const options = {...decoderOptionsOf(flags), model, layers, scales, texts, probe, baseDir: base?.location.dir, maxTokens: flags['max-tokens'], batchSize: flags['batch-size'], windowSize: flags.window}
    const report = {...(await this.consume((signal) => evaluateIter({...options, signal}), {render: renderEvent})), modelDir: model.location.dir}
    if (!this.jsonEnabled()) {
      for (const line of renderEval(report, args.model, flags.base)) {
        this.log(line)
      }
    }
    return report
  }
}
