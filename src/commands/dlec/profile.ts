import {existsSync, statSync} from 'node:fs'
import {resolve} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {DlecCommand} from '../../cli/base-command.js'
import {cacheDirFlag, cacheDirOf} from '../../cli/flags.js'
import {loadTexts} from '../../data/load-texts.js'
import {TEXT_FORMATS} from '../../data/text-format.js'
import {ModelError} from '../../errors.js'
import {profileModelIter, type ProfileResult} from '../../profile/profile-model.js'
import {parseRawMode} from '../../profile/raw-positions.js'

export default class Profile extends DlecCommand {
  static override args = {
    model: Args.string({description: 'Model folder (config.json, safetensors, tokenizer.json).', required: true}),
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
    'batch-size': Flags.integer({description: 'Samples per forward pass.', default: 4, min: 1}),
    'cache-dir': cacheDirFlag,
    data: Flags.file({description: 'Calibration data: plain text (blank-line separated paragraphs), JSONL / JSON (--text-field), Parquet, ShareGPT conversations.', required: true}),
    db: Flags.string({description: 'DuckDB file to write (created when missing).', default: 'dlec.duckdb'}),
    format: Flags.option({description: 'Data format.', options: TEXT_FORMATS, default: 'auto'})(),
    'max-tokens': Flags.integer({description: 'Tokens per sample (longer samples are truncated).', default: 256, min: 2}),
    name: Flags.string({description: 'Name of the new run [default: run-<id>].', exclusive: ['resume']}),
    quant: Flags.option({description: 'Weight format: fp32, or int8 / int4 block-quantized projections (MatMulNBits), built once into the cache; --resume needs the same.', options: ['fp32', 'int8', 'int4'] as const, default: 'fp32'})(),
    raw: Flags.string({description: 'Raw activations to keep: none, first-token (the original DLEC) or sample:K (K positions >= 1 per sample).', default: 'none'}),
    resume: Flags.string({description: 'Continue this failed or interrupted run (same data and options).'}),
    samples: Flags.integer({description: 'Use at most this many samples.', min: 1}),
    'text-field': Flags.string({description: 'JSONL / Parquet field holding the text.', default: 'text'}),
    threads: Flags.integer({description: 'ONNX Runtime intra-op threads [default: one per core].', min: 1}),
  }
  static override summary = 'Profile a model on calibration text into DuckDB (per-layer and per-neuron statistics).'

  async run(): Promise<ProfileResult> {
    const {args, flags} = await this.parse(Profile)
    const raw = parseRawMode(flags.raw)
    const cacheDir = cacheDirOf(flags['cache-dir'])
    if (!existsSync(args.model) || !statSync(args.model).isDirectory()) {
      throw new ModelError(`${args.model}: no such model folder`, 'DLEC_MODEL_NOT_FOUND')
    }
    const texts = await loadTexts({path: flags.data, format: flags.format, textField: flags['text-field'], maxSamples: flags.samples})
    const controller = new AbortController()
    const onSigint = (): void => {
      controller.abort()
    }
    process.on('SIGINT', onSigint)
    const tty = !this.jsonEnabled() && process.stderr.isTTY
    try {
      const it = profileModelIter({
        modelDir: resolve(args.model),
        cacheDir,
        dbPath: flags.db,
        texts,
        dataSource: flags.data,
        maxTokens: flags['max-tokens'],
        batchSize: flags['batch-size'],
        raw,
        name: flags.name,
        resume: flags.resume,
        threads: flags.threads,
        quant: flags.quant,
        signal: controller.signal,
      })
      let next = await it.next()
      while (next.done !== true) {
        const e = next.value
        if (e.type === 'start' && !this.jsonEnabled()) {
          process.stderr.write(`${e.resumed ? 'resuming' : 'profiling'} run ${e.name} (id ${e.runId}): ${e.samples} samples${e.done > 0 ? `, ${e.done} already stored` : ''}\n`)
        } else if (e.type === 'batch' && tty) {
          process.stderr.write(`\r\u001B[K${progressBar(e.done, e.total)} ${e.done}/${e.total} samples  ${Math.round(e.tokensPerSecond)} tok/s  ETA ${formatSeconds(e.etaSeconds)}`)
        }
        next = await it.next()
      }
      if (tty) {
        process.stderr.write('\r\u001B[K')
      }
      const r = next.value
      if (!this.jsonEnabled()) {
        this.log(`run ${r.name} (id ${r.runId}) complete: ${r.samples} samples, ${r.tokens} tokens (positions >= 1), ${r.layers.length} layers`)
        this.log(`time ${r.seconds.toFixed(2)} s, ${Math.round(r.tokensPerSecond)} tokens/s; stored ${r.rows.layerStats} layer, ${r.rows.blockStats} block, ${r.rows.neuronStats} neuron, ${r.rows.activations} activation rows in ${r.dbPath}`)
        this.log(`next: dlec score --db ${r.dbPath} --run ${r.name}`)
      }
      return r
    } finally {
      process.off('SIGINT', onSigint)
    }
  }
}

function progressBar(done: number, total: number): string {
  const width = 24
  const filled = Math.round((done / Math.max(total, 1)) * width)
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) {
    return '?'
  }
  return s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`
}
