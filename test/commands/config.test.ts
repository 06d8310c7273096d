import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Config, Plugin} from '@oclif/core'
import {runCommand} from '@oclif/test'
import {ROOT, STORIES, GENERATED, dlec} from '../helpers/cli.js'
import type {LayersReport, ConfigReport} from '../../src/merge/describe-layers.js'

const REF = `${ROOT}fixtures/mergekit-configs/`
let dir: string

const passthrough = (...ranges: [number, number][]): string =>
  `merge_method: passthrough\nslices:\n${ranges.map(([a, b]) => `- sources:\n  - model: m\n    layer_range: [${a}, ${b}]\n`).join('')}`

function write(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

/** The error text of a failed run: the message oclif printed, unwrapped to one line. */
async function failure(args: string[], exit: number): Promise<string> {
  const res = await dlec(args, {env: {OCLIF_COLUMNS: '1000'}})
  assert.equal(res.code, exit, `exit ${res.code}: ${res.stderr}`)
  assert.equal(res.stdout, '')
  assert.doesNotMatch(res.stderr, /\n\s+at /, 'stack trace printed')
  const lines = res.stderr
    .split('\n')
    .map((l) => l.replace(/^\s*›?\s*/, ''))
    .filter((l) => l !== '' && !l.startsWith('Code:'))
  assert.equal(lines.length, 1, `not one line:\n${res.stderr}`)
  return lines[0] ?? ''
}

describe('dlec config validate / layers (standalone bin)', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dlec-config-'))
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('layers --json gives the layer map of a real config', async () => {
    const res = await dlec(['config', 'layers', `${REF}solar-dus-mistral-7b-instruct-v0.2.yaml`, '--json'])
    assert.equal(res.code, 0, res.stderr)
    const report = JSON.parse(res.stdout) as LayersReport
    assert.equal(report.outputLayers, 48)
    assert.deepEqual(
      report.layers.map((l) => l.source),
      [...Array.from({length: 24}, (_, i) => i), ...Array.from({length: 24}, (_, i) => i + 8)],
    )
    assert.equal(report.layers[24]?.t, 0)
    assert.equal(report.layers[47]?.t, 1)
  })

  it('layers --model: depth and parameter count before and after, per-tensor scale', async () => {
    const plan = write('stories.yaml', `merge_method: passthrough\nslices:\n- sources:\n  - model: ${STORIES}\n    layer_range: [0, 5]\n- sources:\n  - model: ${STORIES}\n    layer_range: [3, 5]\n    parameters:\n      scale:\n      - filter: self_attn.o_proj\n        value: 0\n`)
    const res = await dlec(['config', 'layers', plan, '--model', STORIES, '--json'])
    assert.equal(res.code, 0, res.stderr)
    const r = JSON.parse(res.stdout) as LayersReport
    // One stories260K layer: 2 norms, q/o 64x64, k/v 32x64 (GQA), gate/up/down 172x64.
    const layerParams = 64 * 2 + 64 * 64 * 2 + 64 * 32 * 2 + 172 * 64 * 3
    assert.deepEqual(r.model && [r.model.depthBefore, r.model.depthAfter, r.model.architecture], [5, 7, 'llama'])
    // README: 260,032 parameters with tied embeddings (the file also stores lm_head, 512 x 64: counted once, as transformers does).
    assert.equal(r.model?.paramsBefore, 260_032)
    assert.equal((r.model?.paramsAfter ?? 0) - (r.model?.paramsBefore ?? 0), 2 * layerParams)
    assert.equal(r.layers[5]?.parameters.scale, 'self_attn.o_proj.weight=0')
    const text = await dlec(['config', 'layers', plan, '--model', STORIES])
    assert.match(text.stdout, /^\s+5 ← .*:3\s+1\s+scale: self_attn\.o_proj\.weight=0$/m)
    assert.match(text.stdout, /depth 5 -> 7 \(num_hidden_layers\)/)
  })

  it('validate prints a verdict and warnings; --json returns them', async () => {
    const plan = write('warn.yaml', `${passthrough([0, 2], [3, 3])}name: x\n`)
    const res = await dlec(['config', 'validate', plan])
    assert.equal(res.code, 0, res.stderr)
    assert.match(res.stdout, /valid mergekit config \(passthrough, 2 slices, 2 output layers\)/)
    assert.match(res.stderr, /Warning: .*warn\.yaml: slices\[1\]\.sources\[0\]\.layer_range: \[3, 3\] is empty: this slice adds zero layers/)
    const json = JSON.parse((await dlec(['config', 'validate', plan, '--json'])).stdout) as ConfigReport
    assert.equal(json.warnings.length, 2)
    assert.equal(json.outputLayers, 2)
  })

  it('warns when the model has tensors its architecture template does not copy', async () => {
    // A Qwen2 checkpoint (q/k/v biases) declared as Llama: mergekit's llama template drops the biases.
    const model = join(dir, 'qwen-as-llama')
    cpSync(join(GENERATED, 'qwen2'), model, {recursive: true})
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as Record<string, unknown>
    writeFileSync(join(model, 'config.json'), JSON.stringify({...config, architectures: ['LlamaForCausalLM'], model_type: 'llama'}))
    const res = await dlec(['config', 'validate', write('q.yaml', passthrough([0, 3])), '--model', model])
    assert.equal(res.code, 0, res.stderr)
    assert.match(res.stderr, /qwen-as-llama: 9 tensors outside the llama template would not be copied by a merge \(as mergekit drops them\): model\.layers\.0\.self_attn\.k_proj\.bias/)
  })

  it('a models merge (no slices) keeps the model depth', async () => {
    const plan = write('linear.yaml', `merge_method: linear\nmodels:\n- model: a\n  parameters: {weight: 0.5}\n- model: b\n  parameters: {weight: 0.5}\n`)
    const res = await dlec(['config', 'layers', plan, '--model', join(GENERATED, 'phi'), '--json'])
    assert.equal(res.code, 0, res.stderr)
    const r = JSON.parse(res.stdout) as LayersReport
    assert.deepEqual([r.slices, r.outputLayers, r.models, r.layers], [0, 3, ['a', 'b'], []])
    assert.equal(r.model?.paramsAfter, r.model?.paramsBefore)
    assert.match((await dlec(['config', 'validate', plan])).stdout, /valid mergekit config \(linear, 2 models, no slices\)/)
  })

  it('bad input: one line naming file and place, non-zero exit, no stack trace', async () => {
    const cases: [string, string, RegExp, number][] = [
      ['malformed.yaml', 'merge_method: passthrough\nslices: [\n', /malformed\.yaml: invalid YAML at line \d+, column \d+/, 3],
      ['types.yaml', passthrough([0, 2]).replace('[0, 2]', '[zero, 2]'), /types\.yaml: slices\[0\]\.sources\[0\]\.layer_range\[0\]: must be an integer \(got string "zero"\)/, 3],
      ['nomethod.yaml', passthrough([0, 2]).replace('merge_method: passthrough\n', ''), /nomethod\.yaml: merge_method: is required/, 3],
      ['both.yaml', `${passthrough([0, 2])}models:\n- model: m\n`, /both\.yaml: slices \/ models: give exactly one of slices, models, modules \(found both slices and models\)/, 3],
      ['reversed.yaml', passthrough([0, 2], [2, 4], [9, 4]), /reversed\.yaml: slices\[2\]\.sources\[0\]\.layer_range: start 9 > end 4/, 3],
      ['two.yaml', `${passthrough([0, 2])}  - model: n\n    layer_range: [0, 2]\n`, /two\.yaml: slices\[0\]\.sources: passthrough takes exactly one source per slice \(found 2\)/, 3],
      ['dtype.yaml', `${passthrough([0, 2])}dtype: bfloat\n`, /dtype\.yaml: dtype: unknown dtype "bfloat"/, 3],
    ]
    for (const [name, text, message, exit] of cases) {
      const path = write(name, text)
      for (const cmd of ['validate', 'layers']) {
        assert.match(await failure(['config', cmd, path], exit), message, `${cmd} ${name}`)
      }
    }
    assert.match(await failure(['config', 'validate', join(dir, 'absent.yaml')], 3), /absent\.yaml: cannot read mergekit config \(no such file\)/)
  })

  it('bad input with --model: range past the depth, unknown architecture', async () => {
    const plan = write('deep.yaml', passthrough([0, 4], [3, 6]))
    assert.match(
      await failure(['config', 'layers', plan, '--model', STORIES], 3),
      /deep\.yaml: slices\[1\]\.sources\[0\]\.layer_range: \[3, 6\] goes past the model's 5 layers/,
    )
    const model = join(dir, 'foo-model')
    cpSync(join(GENERATED, 'llama'), model, {recursive: true})
    writeFileSync(join(model, 'config.json'), JSON.stringify({architectures: ['FooForCausalLM'], model_type: 'foo', num_hidden_layers: 4}))
    assert.match(await failure(['config', 'validate', plan, '--model', model], 4), /foo-model\/config\.json: unsupported architecture FooForCausalLM/)
  })
})

describe('dlec config layers (plugin form, inside a host CLI)', () => {
  it('is registered as `dlec config layers` and returns the typed report', async () => {
    // The plugin loaded from its command registry, not from oclif.manifest.json (regenerated at
    // release and checked for staleness by CI), so the test sees the commands as built.
    const plugin = new Plugin({root: ROOT, isRoot: true, ignoreManifest: true})
    await plugin.load()
    const config = await Config.load({root: ROOT, plugins: new Map([[plugin.name, plugin]])})
    assert.ok(config.findCommand('dlec:config:layers'), 'plugin id dlec:config:layers not found')
    assert.ok(config.findCommand('dlec:config:validate'))
    const {result, error} = await runCommand<LayersReport>(['dlec', 'config', 'layers', `${REF}venusaur-single-layer-slices.yaml`, '--json'], config)
    assert.equal(error, undefined)
    assert.deepEqual(result?.layers.map((l) => l.source), [0, 0, 1, 1])
  })
})
