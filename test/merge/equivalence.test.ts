import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {layerSequenceToConfig} from '../../src/mergekit/layer-sequence-to-config.js'
import {parseMergeConfig} from '../../src/mergekit/parse-merge-config.js'
import {toYaml} from '../../src/mergekit/to-yaml.js'
import {modelOf} from '../../src/model/loaded-model.js'
import {executeMerge} from '../../src/merge/engines/execute-native.js'
import {prepareNativeMerge} from '../../src/merge/prepare-native-merge.js'
import {ShardedTensorIndex} from '../../src/safetensors/reader.js'
import {GENERATED, python, ROOT, STORIES} from '../helpers/cli.js'

interface Digest {
  dtype: string
  shape: number[]
  sha256: string
}
interface MergekitResult {
  error: string | null
  tensors: Record<string, Digest>
  config: Record<string, unknown> | null
}

const G = (name: string): string => join(GENERATED, name)
const slice = (model: string, a: number, b: number, params = ''): string =>
  `  - sources:\n      - model: ${model}\n        layer_range: [${a}, ${b}]\n${params}`
const identity = (filters: string[]): string =>
  `        parameters:\n          scale:\n${filters.map((f) => `            - filter: ${f}\n              value: 0.0\n`).join('')}`
const yaml = (slices: string[], extra = ''): string => `slices:\n${slices.join('')}merge_method: passthrough\n${extra}`
/** The YAML `dlec plan --strategy soft` writes: single-layer copies with `scale: α` on the family's output projections. */
const soft = async (model: string, layers: number[], alpha: number, dtype?: string): Promise<string> =>
  toYaml(layerSequenceToConfig({model, layers, copyScale: alpha, dtype, arch: (await modelOf({modelDir: model})).arch}))

/** name -> [yaml, out-shard-size]: every feature the native engine implements, across the families. */
const CASES: Record<string, [string, number]> = {
  'stories-solar-overlap': [yaml([slice(STORIES, 0, 3), slice(STORIES, 1, 5)]), 5e9],
  'stories-single-layer-dup': [yaml([slice(STORIES, 0, 4), slice(STORIES, 3, 4), slice(STORIES, 4, 5)]), 5e9],
  'stories-identity-copies': [yaml([slice(STORIES, 0, 4), slice(STORIES, 3, 4, identity(['o_proj', 'down_proj'])), slice(STORIES, 4, 5)]), 5e9],
  'stories-bf16-gradient': [
    yaml([slice(STORIES, 0, 3), slice(STORIES, 2, 5, '        parameters:\n          scale: [0.5, 1.25, 3.0e-3]\n')], 'dtype: bfloat16\n'),
    200_000,
  ],
  'llama-sharded-multishard': [yaml([slice(G('llama-sharded'), 0, 3), slice(G('llama-sharded'), 1, 4)]), 100_000],
  'llama-bf16-to-f16': [yaml([slice(G('llama-bf16'), 0, 2), slice(G('llama-bf16'), 1, 4, identity(['o_proj']))], 'out_dtype: float16\n'), 5e9],
  'two-model-frankenmerge': [yaml([slice(G('llama'), 0, 2), slice(G('llama-bf16'), 1, 4)]), 5e9],
  mistral: [yaml([slice(G('mistral'), 0, 2), slice(G('mistral'), 1, 3, identity(['self_attn.o_proj', 'mlp.down_proj']))]), 5e9],
  qwen2: [yaml([slice(G('qwen2'), 0, 2), slice(G('qwen2'), 1, 3)]), 5e9],
  qwen3: [yaml([slice(G('qwen3'), 0, 2), slice(G('qwen3'), 1, 2)]), 5e9],
  gemma: [yaml([slice(G('gemma'), 0, 2), slice(G('gemma'), 1, 2)]), 5e9],
  gemma2: [yaml([slice(G('gemma2'), 0, 3), slice(G('gemma2'), 2, 4)]), 5e9],
  phi: [yaml([slice(G('phi'), 0, 2), slice(G('phi'), 1, 3, identity(['self_attn.dense', 'mlp.fc2']))]), 5e9],
  phi3: [yaml([slice(G('phi3'), 0, 2), slice(G('phi3'), 1, 3)]), 5e9],
  gpt2: [yaml([slice(G('gpt2'), 0, 2), slice(G('gpt2'), 1, 3, identity(['c_proj']))], 'dtype: float16\n'), 5e9],
  // soft copies (α on a copy's output projections, weights and biases): α 0.75 and 0.3 round in bf16 / fp16 / fp32
  'stories-soft-copies': [await soft(STORIES, [0, 1, 2, 3, 3, 4, 4], 0.75), 5e9],
  'llama-bf16-soft-copies': [await soft(G('llama-bf16'), [0, 1, 1, 2, 3], 0.75), 5e9],
  'gpt2-soft-copies-f16': [await soft(G('gpt2'), [0, 0, 1, 2, 2], 0.3, 'float16'), 5e9],
  'gemma2-soft-copies': [await soft(G('gemma2'), [0, 1, 2, 2, 3], 0.6), 5e9],
}

const tmp = mkdtempSync(join(tmpdir(), 'dlec-equiv-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

async function runNative(name: string, text: string, shardSize: number): Promise<string> {
  const out = join(tmp, 'native', name)
  const file = join(tmp, `${name}.yml`)
  const {config} = parseMergeConfig(text, file)
  const prep = await prepareNativeMerge({config, yaml: text, source: file, out, outShardSize: shardSize})
  try {
    const events = executeMerge({plan: prep.plan, sources: prep.sources, out, files: prep.files, chunkBytes: 4096})
    while (!(await events.next()).done) {
      // drain: progress events are not needed here
    }
  } finally {
    await prep.close()
  }
  return out
}

async function digestNative(dir: string): Promise<Record<string, Digest>> {
  const index = await ShardedTensorIndex.open(dir)
  const out: Record<string, Digest> = {}
  for (const name of index.names()) {
    const info = index.info(name)
    out[name] = {dtype: info.dtype, shape: info.shape, sha256: createHash('sha256').update(await index.read(name)).digest('hex')}
  }
  await index.close()
  return out
}

describe('native passthrough == real mergekit, tensor for tensor', () => {
  let mergekit: Record<string, MergekitResult> = {}
  before(() => {
    mkdirSync(join(tmp, 'native'))
    const jobs = Object.entries(CASES).map(([name, [text, size]]) => {
      writeFileSync(join(tmp, `${name}.yml`), text)
      return {yaml: join(tmp, `${name}.yml`), out: join(tmp, 'mergekit', name), shard_size: String(size)}
    })
    writeFileSync(join(tmp, 'jobs.json'), JSON.stringify(jobs))
    const stdout = execFileSync(python(), [join(ROOT, 'test/python/mergekit_batch.py'), join(tmp, 'jobs.json')], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    mergekit = JSON.parse(stdout) as Record<string, MergekitResult>
  })

  const failedInMergekit: string[] = []
  for (const [name, [text, size]] of Object.entries(CASES)) {
    it(name, async () => {
      const expected = mergekit[join(tmp, 'mergekit', name)]
      assert.ok(expected, 'mergekit ran')
      const dir = await runNative(name, text, size)
      const got = await digestNative(dir)
      assert.ok(Object.keys(expected.tensors).length > 0, `mergekit wrote tensors (${expected.error ?? ''})`)
      assert.deepEqual(Object.keys(got).sort(), Object.keys(expected.tensors).sort(), 'same tensor names')
      for (const [tensor, want] of Object.entries(expected.tensors)) {
        assert.deepEqual(got[tensor], want, `tensor ${tensor}`)
      }
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
      const layersKey = 'n_layer' in config ? 'n_layer' : 'num_hidden_layers'
      if (expected.error === null) {
        assert.equal(config[layersKey], expected.config?.[layersKey], 'config layer count')
        // The same shard files (names and count); placement of duplicated tensors may differ.
        const shards = (d: string): string[] => readdirSync(d).filter((f) => f.endsWith('.safetensors')).sort()
        assert.deepEqual(shards(dir), shards(join(tmp, 'mergekit', name)))
      } else {
        // mergekit fails saving config.json for models with per-layer lists (layer_types).
        assert.match(expected.error, /layer_types|num_hidden_layers/)
        failedInMergekit.push(dir)
      }
      assert.equal(readFileSync(join(dir, 'mergekit_config.yml'), 'utf8'), text)
    })
  }

  it("dlec's output loads in transformers where mergekit's config save fails (layer_types)", () => {
    assert.ok(failedInMergekit.length > 0, 'expected the layer_types families to fail in mergekit')
    const result = JSON.parse(
      execFileSync(python(), [join(ROOT, 'test/python/load_merged.py'), ...failedInMergekit], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}),
    ) as Record<string, {layers: number; finite: boolean}>
    for (const dir of failedInMergekit) {
      assert.equal(result[dir]?.finite, true, dir)
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {num_hidden_layers: number; layer_types: string[]}
      assert.equal(result[dir]?.layers, config.num_hidden_layers)
      assert.equal(config.layer_types.length, config.num_hidden_layers)
    }
  })
})
