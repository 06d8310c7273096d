import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {decoderFlags, decoderOptionsOf, modelFlags} from '../../cli/flags.js'
import {renderEvent} from '../../cli/render/events.js'
import {loadTexts} from '../../data/load-texts.js'
import {TEXT_FORMATS} from '../../data/text-format.js'
import {profileModelIter, type ProfileResult} from '../../profile/profile-model.js'
import {parseRawMode} from '../../profile/raw-positions.js'

export default class Profile extends DlecCommand {
  static override args = {
    model: Args.string({description: 'Model folder (config.json, safetensors, tokenizer.json), or Hugging Face id (HF cache).', required: true}),
  }
  static override description =
    'Runs calibration text through the model with ONNX Runtime (graphs built by dlec from the safetensors) and stores, in a DuckDB file, per layer and sample the norms, cosines and angular distances of the hidden states over positions >= 1 (between each layer\'s input and output, and across blocks of up to 8 layers), per-neuron running statistics (count, sum, sum of squares, sum |x|, max |x|) and, with --raw, raw activations (first-token is what the original DLEC stored). Whole batches are written together in transactions (every ~2 s); Ctrl-C writes the batches already computed, marks the run failed, and --resume continues it. Read the results with `dlec score`.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> fixtures/stories260K --data fixtures/calibration/stories.txt',
    '<%= config.bin %> <%= command.id %> ./my-model --data train.parquet --text-field text --samples 128 --max-tokens 512 --raw sample:8 --name calib',
    '<%= config.bin %> <%= command.id %> ./my-model --data chats.jsonl --format sharegpt --raw first-token',
    '<%= config.bin %> <%= command.id %> ./my-model --data train.parquet --resume calib',
    '<%= config.bin %> <%= command.id %> ./my-model --data train.parquet --quant int8 --name calib-int8',
  ]
  static override flags = {
    ...modelFlags,
    ...decoderFlags,
    'batch-size': Flags.integer({description: 'Samples per forward pass.', default: 4, min: 1}),
    data: Flags.file({description: 'Calibration data: plain text (blank-line separated paragraphs), JSONL / JSON (--text-field), Parquet, ShareGPT conversations.', required: true}),
    db: Flags.string({description: 'DuckDB file to write (created when missing).', default: 'dlec.duckdb'}),
    format: Flags.option({description: 'Data format.', options: TEXT_FORMATS, default: 'auto'})(),
    'max-tokens': Flags.integer({description: 'Tokens per sample (longer samples are truncated).', default: 256, min: 2}),
    name: Flags.string({description: 'Name of the new run [default: run-<id>].', exclusive: ['resume']}),
    raw: Flags.string({description: 'Raw activations to keep: none, first-token (the original DLEC) or sample:K (K positions >= 1 per sample).', default: 'none'}),
    resume: Flags.string({description: 'Continue this failed or interrupted run (same data and options).'}),
    samples: Flags.integer({description: 'Use at most this many samples.', min: 1}),
    'text-field': Flags.string({description: 'JSONL / Parquet field holding the text.', default: 'text'}),
  }
  static override summary = 'Profile a model on calibration text into DuckDB (per-layer and per-neuron statistics).'

  async run(): Promise<ProfileResult> {
    const {args, flags} = await this.parse(Profile)
    const raw = parseRawMode(flags.raw)
    const model = await this.loadModelArg(args.model, flags)
    const texts = await loadTexts({path: flags.data, format: flags.format, textField: flags['text-field'], maxSamples: flags.samples})
    const r = await this.consume(
      (signal) =>
        profileModelIter({
          ...decoderOptionsOf(flags),
          model,
          dbPath: flags.db,
          texts,
          dataSource: flags.data,
          maxTokens: flags['max-tokens'],
          batchSize: flags['batch-size'],
          raw,
          name: flags.name,
          resume: flags.resume,
          signal,
        }),
      {render: renderEvent},
    )
    if (!this.jsonEnabled()) {
      this.log(`run ${r.name} (id ${r.runId}) complete: ${r.samples} samples, ${r.tokens} tokens (positions >= 1), ${r.layers.length} layers`)
      this.log(`weights ${r.weightFormat.format} (${r.weightFormat.reason})`)
      this.log(`time ${r.seconds.toFixed(2)} s, ${Math.round(r.tokensPerSecond)} tokens/s; stored ${r.rows.layerStats} layer, ${r.rows.blockStats} block, ${r.rows.neuronStats} neuron, ${r.rows.activations} activation rows in ${r.dbPath}`)
      this.log(`next: dlec score --db ${r.dbPath} --run ${r.name}`)
    }
    return r
  }
}
