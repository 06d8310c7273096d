import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {DlecError, MergeError} from '../../src/errors.js'
import {layerSequenceToConfig} from '../../src/mergekit/layer-sequence-to-config.js'
import {parseMergeConfig} from '../../src/mergekit/parse-merge-config.js'
import {toYaml} from '../../src/mergekit/to-yaml.js'
import {executeMerge} from '../../src/merge/engines/execute-native.js'
import {prepareNativeMerge} from '../../src/merge/prepare-native-merge.js'
import {GENERATED, python, ROOT, STORIES} from '../helpers/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-native-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

async function merge(text: string, out: string, opts: {force?: boolean; shardSize?: number} = {}): Promise<void> {
  const {config} = parseMergeConfig(text, 'test.yml')
  const prep = await prepareNativeMerge({config, yaml: text, source: 'test.yml', out, outShardSize: opts.shardSize ?? 5e9})
  try {
    const events = executeMerge({plan: prep.plan, sources: prep.sources, out, files: prep.files, force: opts.force})
    while (!(await events.next()).done) {
      // drain
    }
  } finally {
    await prep.close()
  }
}

const sequenceYaml = (model: string, layers: number[]): string => toYaml(layerSequenceToConfig({model, layers}))

/** Only the output folder's expected siblings exist: no temporary or half-written folders left. */
function assertNothingLeft(parent: string, allowed: string[]): void {
  assert.deepEqual(readdirSync(parent).filter((f) => !allowed.includes(f)), [])
}

describe('native merge output runs', () => {
  it('stories260K [0,1,2,3,3,4]: logits equal a hand-assembled transformers forward of that sequence', async () => {
    const out = join(tmp, 'stories-dup')
    await merge(sequenceYaml(STORIES, [0, 1, 2, 3, 3, 4]), out)
    const result = JSON.parse(
      execFileSync(python(), [join(ROOT, 'test/python/load_merged.py'), '--sequence', STORIES, out, '0,1,2,3,3,4'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as {max_abs_diff: number; layers: number}
    assert.equal(result.layers, 6)
    assert.ok(result.max_abs_diff <= 1e-5, `max abs diff ${result.max_abs_diff}`)
    const card = readFileSync(join(out, 'README.md'), 'utf8')
    assert.match(card, /^---\nbase_model: \[\]\nlibrary_name: transformers\ntags:\n- mergekit\n- merge\n- dlec\n---\n/)
    assert.ok(card.includes('layer_range: [3, 5]'))
  })
})

describe('native merge refuses bad input, writing nothing', () => {
  const parent = join(tmp, 'bad')
  mkdirSync(parent)
  const copy = (name: string, from: string): string => {
    const dir = join(parent, name)
    mkdirSync(dir)
    for (const f of readdirSync(from)) {
      copyFileSync(join(from, f), join(dir, f))
    }
    return dir
  }
  const refuses = async (text: string, pattern: RegExp, out = join(parent, 'out')): Promise<void> => {
    await assert.rejects(merge(text, out), (e: unknown) => {
      assert.ok(e instanceof DlecError, String(e))
      assert.match(e.message, pattern)
      assert.ok(!e.message.includes('\n'))
      return true
    })
    assert.equal(existsSync(out), false, 'no output folder')
  }

  it('a requested layer past the model depth', async () => {
    await refuses(sequenceYaml(STORIES, [0, 1, 7]), /7|layer_range|depth|layers/)
  })

  it('an output folder that is, or is inside, a source model folder', async () => {
    const src = copy('overlap', STORIES)
    await assert.rejects(merge(sequenceYaml(src, [0, 1]), src, {force: true}), /overlaps the source model folder/)
    await assert.rejects(merge(sequenceYaml(src, [0, 1]), join(src, 'merged')), /overlaps the source model folder/)
    assert.ok(existsSync(join(src, 'model.safetensors')))
  })

  it('a source missing the tensors of a requested layer (names model and tensor)', async () => {
    const dir = copy('holey', STORIES)
    const {spawnSync} = await import('node:child_process')
    const script = `from safetensors.torch import load_file, save_file
d = load_file("${dir}/model.safetensors"); d.pop("model.layers.2.mlp.up_proj.weight"); save_file(d, "${dir}/model.safetensors", metadata={"format": "pt"})`
    assert.equal(spawnSync(python(), ['-c', script]).status, 0)
    await refuses(sequenceYaml(dir, [0, 1, 2, 2]), /has no tensor model\.layers\.2\.mlp\.up_proj\.weight \(output layer 2 <- source layer 2\)/)
  })

  it('a missing shard, a truncated shard', async () => {
    const missing = copy('missing', join(GENERATED, 'llama-sharded'))
    rmSync(join(missing, 'model-00002-of-00004.safetensors'))
    await refuses(sequenceYaml(missing, [0, 1, 1]), /model-00002-of-00004\.safetensors.*not found/)
    const truncated = copy('truncated', join(GENERATED, 'llama-sharded'))
    truncateSync(join(truncated, 'model-00003-of-00004.safetensors'), 1000)
    await refuses(sequenceYaml(truncated, [0, 1, 1]), /model-00003-of-00004\.safetensors: .*past the/)
  })

  it('what the native engine does not implement, by name', async () => {
    const base = sequenceYaml(STORIES, [0, 1])
    await refuses(base.replace('passthrough', 'linear'), /merge_method linear is not supported by the native engine.*--engine mergekit/)
    await refuses(`${base}tokenizer_source: base\n`, /tokenizer_source is not supported by the native engine; use --engine mergekit/)
    await refuses(`${base}chat_template: chatml\n`, /chat_template is not supported/)
    await refuses(base.replace(/model: (.*)/, 'model: $1+some/lora'), /LoRA model reference/)
  })

  it('an existing output folder unless force; a failure mid-write leaves the old folder intact', async () => {
    const out = join(parent, 'exists')
    mkdirSync(out)
    writeFileSync(join(out, 'keep.txt'), 'old')
    await assert.rejects(merge(sequenceYaml(STORIES, [0, 1]), out), (e: unknown) => e instanceof MergeError && /already exists \(use --force/.test(e.message))
    // A source that breaks after planning: the read fails while shards are being written.
    const src = copy('shrinks', STORIES)
    const text = sequenceYaml(src, [0, 1, 2])
    const {config} = parseMergeConfig(text, 'x.yml')
    const prep = await prepareNativeMerge({config, yaml: text, source: 'x.yml', out, outShardSize: 5e9})
    truncateSync(join(src, 'model.safetensors'), 4096)
    const events = executeMerge({plan: prep.plan, sources: prep.sources, out, files: prep.files, force: true})
    await assert.rejects(
      (async () => {
        while (!(await events.next()).done) {
          // drain
        }
      })(),
      /file ended while reading tensor/,
    )
    await prep.close()
    assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'old')
    assertNothingLeft(parent, ['overlap', 'holey', 'missing', 'truncated', 'exists', 'shrinks'])
    await merge(sequenceYaml(STORIES, [0, 1]), out, {force: true})
    assert.equal(existsSync(join(out, 'keep.txt')), false)
    assert.ok(existsSync(join(out, 'model.safetensors')))
    assertNothingLeft(parent, ['overlap', 'holey', 'missing', 'truncated', 'exists', 'shrinks'])
  })
})
