import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {cacheDirFlag, cacheDirOf, resolveModelArg} from '../../cli/flags.js'
import {loadTexts} from '../../data/load-texts.js'
import {UsageError} from '../../errors.js'
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
    'batch-size': Flags.integer({description: 'Rows per forward pass.', default: 4, min: 1}),
    'cache-dir': cacheDirFlag,
    data: Flags.file({description: 'Evaluation data: plain text (paragraphs), JSONL / JSON (--text-field), Parquet, ShareGPT conversations.', required: true}),
    layers: Flags.string({description: 'Layer sequence to evaluate, e.g. 0,1,2,2,3 (0-based, repeats allowed).', exclusive: ['plan']}),
    'max-tokens': Flags.integer({description: 'Evaluate at most this many tokens.', min: 2}),
    plan: Flags.file({description: 'mergekit passthrough YAML whose layer sequence to evaluate.', exclusive: ['layers']}),
    probe: Flags.file({description: 'Multiple-choice JSONL ({"question", "choices", "answer"}): accuracy by log-likelihood.'}),
    quant: Flags.option({description: 'Weight format: fp32, or int8 / int4 block-quantized projections (MatMulNBits), built once into the cache.', options: ['fp32', 'int8', 'int4'] as const, default: 'fp32'})(),
    'text-field': Flags.string({description: 'JSONL field holding the text.', default: 'text'}),
    threads: Flags.integer({description: 'ONNX Runtime intra-op threads [default: one per core].', min: 1}),
    window: Flags.integer({description: 'Tokens per row; longer texts are chunked [default: model positions, at most 1024].', min: 2}),
  }
  static override summary = 'Loss, perplexity and distance to the original of a model or a layer sequence.'

  async run(): Promise<EvalReport> {
    const {args, flags} = await this.parse(Eval)
    const cacheDir = cacheDirOf(flags['cache-dir'])
    const model = await resolveModelArg(args.model)
    let layers: number[] | undefined
    let scales: PlanLayers['scales'] | undefined
    if (flags.layers !== undefined) {
      layers = parseLayerList(flags.layers)
    } else if (flags.plan !== undefined) {
      const plan = await planLayers({file: flags.plan, modelDir: model.dir})
      layers = plan.layers
      scales = plan.scales
      for (const w of plan.warnings) {
        this.warn(w)
      }
    }
    const texts = await loadTexts({path: flags.data, textField: flags['text-field']})
    const probe = flags.probe === undefined ? undefined : await readProbeItems(flags.probe)
    const it = evaluateIter({
      modelDir: model.dir,
      cacheDir,
      layers,
      scales,
      texts,
      maxTokens: flags['max-tokens'],
      batchSize: flags['batch-size'],
      windowSize: flags.window,
      threads: flags.threads,
      probe,
      quant: flags.quant,
    })
    let next = await it.next()
    while (next.done !== true) {
      const e = next.value
      if (!this.jsonEnabled() && process.stderr.isTTY) {
        const what = e.type === 'convert' ? 'converting weights' : e.type === 'check' ? 'checking weights' : 'evaluating'
        process.stderr.write(`\r${what} ${e.done}/${e.total}   `)
      }
      next = await it.next()
    }
    if (!this.jsonEnabled() && process.stderr.isTTY) {
      process.stderr.write('\r\u001B[K')
    }
    const report = {...next.value, modelDir: model.dir}
    if (!this.jsonEnabled()) {
      for (const line of renderEval(report, args.model)) {
        this.log(line)
      }
    }
    return report
  }
}

/** "0,1,2,2,3" -> [0, 1, 2, 2, 3]. */
function parseLayerList(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim())
  const layers = parts.map(Number)
  if (parts.some((p) => !/^\d+$/.test(p))) {
    throw new UsageError(`--layers ${text}: expected comma-separated layer indices such as 0,1,2,2,3`)
  }
  return layers
}

/** `2` -> `2[attn*0,mlp*0]` for a scaled copy. */
function scaleMark(s: {attn?: number; mlp?: number} | undefined): string {
  if (s === undefined) {
    return ''
  }
  return `[attn*${s.attn ?? 1},mlp*${s.mlp ?? 1}]`
}

function renderEval(r: EvalReport, model: string): string[] {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`
  const sign = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`
  const lines = [
    `model      ${model} (${r.numLayers} layers)`,
    `layers     ${r.layers.map((l, i) => l + scaleMark(r.scales?.[i])).join(',')} (${r.layers.length} layers)`,
    `data       ${r.texts} text(s), ${r.rows} row(s) of up to ${r.windowSize} tokens, ${r.tokens} predicted tokens`,
  ]
  if (r.chunkedTexts > 0) {
    lines.push(`           ${r.chunkedTexts} text(s) longer than ${r.windowSize} tokens were chunked (each window starts again with BOS)`)
  }
  if (r.truncated) {
    lines.push('           stopped at --max-tokens')
  }
  lines.push(`loss       ${r.loss.toFixed(4)} nats/token   perplexity ${r.perplexity.toFixed(3)}`)
  lines.push(`original   ${r.original.loss.toFixed(4)} nats/token   perplexity ${r.original.perplexity.toFixed(3)}`)
  lines.push(`vs original: mean KL ${r.meanKl.toFixed(4)}   top-1 agreement ${pct(r.top1Agreement)}   loss ${sign(r.lossDelta)}`)
  if (r.probe) {
    lines.push(`probe      ${r.probe.candidate.items} items: accuracy ${pct(r.probe.candidate.accuracy)} (norm ${pct(r.probe.candidate.accuracyNorm)}); original ${pct(r.probe.original.accuracy)} (norm ${pct(r.probe.original.accuracyNorm)})`)
  }
  return lines
}
