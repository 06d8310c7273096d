import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {parseMergeConfig} from '../../src/mergekit/parse-merge-config.js'
import {layerMap} from '../../src/mergekit/layer-map.js'
import {toYaml} from '../../src/mergekit/to-yaml.js'
import {mergekitCheck} from './mergekit-check.js'
import {ROOT} from '../helpers/cli.js'

// Real-world mergekit configs collected for the project; each header comment states the output
// layer count (and, where it can, the source sequence), independently of the YAML body.
const DIR = `${ROOT}fixtures/mergekit-configs/`

type Run = [model: string, start: number, end: number]
const seq = (...runs: Run[]): string[] => runs.flatMap(([m, a, b]) => Array.from({length: b - a}, (_, i) => `${m}:${a + i}`))
const overlapping = (model: string, count: number, size: number, step: number): Run[] =>
  Array.from({length: count}, (_, k): Run => [model, k * step, k * step + size])

const MISTRAL = 'mistralai/Mistral-7B-Instruct-v0.2'
const OPENCHAT = 'openchat/openchat-3.5-0106'
const XWIN = 'Xwin-LM/Xwin-LM-70B-V0.1'
const EURYALE = 'Sao10K/Euryale-1.3-L2-70B'

/** Sequences as the header comments describe them (model:source per output layer). */
const EXPECTED_SEQUENCES: Record<string, string[]> = {
  'solar-dus-mistral-7b-instruct-v0.2.yaml': seq([MISTRAL, 0, 24], [MISTRAL, 8, 32]),
  'pruneme-mistral-7b-sliced-24-layer.yaml': seq([MISTRAL, 0, 21], [MISTRAL, 29, 32]),
  'venusaur-single-layer-slices.yaml': seq(['Mihaiii/Venusaur', 0, 1], ['Mihaiii/Venusaur', 0, 1], ['Mihaiii/Venusaur', 1, 2], ['Mihaiii/Venusaur', 1, 2]),
  'orcamini-platy-44layer.yml': seq(['psmathur/orca_mini_v3_13b', 0, 24], ['garage-bAInd/Platypus2-13B', 20, 40]),
  'neuralpipe-9b-merged.yaml': seq(['OpenPipe/mistral-ft-optimized-1218', 0, 32], ['mlabonne/NeuralHermes-2.5-Mistral-7B', 24, 32]),
  'openchat-3.5-0106-40layers-appended-scale.yaml': seq([OPENCHAT, 0, 32], ...Array.from({length: 8}, (): Run => [OPENCHAT, 31, 32])),
  'openchat-3.5-0106-40layers-interleaved-scale.yaml': seq(
    ...Array.from({length: 8}, (_, k): Run[] => [
      [OPENCHAT, 4 * k, 4 * k + 4],
      [OPENCHAT, 4 * k + 3, 4 * k + 4],
    ]).flat(),
  ),
  // "range 0, 16 Xwin / range 8, 24 Euryale / ..." from the card, as quoted in the header.
  'goliath-120b.yaml': seq(
    [XWIN, 0, 16],
    [EURYALE, 8, 24],
    [XWIN, 17, 32],
    [EURYALE, 25, 40],
    [XWIN, 33, 48],
    [EURYALE, 41, 56],
    [XWIN, 49, 64],
    [EURYALE, 57, 72],
    [XWIN, 65, 80],
  ),
  'megadolphin-120b.yaml': seq(...overlapping('cognitivecomputations/dolphin-2.2-70b', 7, 20, 10)),
  'meta-llama-3-120b-instruct.yaml': seq(...overlapping('meta-llama/Meta-Llama-3-70B-Instruct', 7, 20, 10)),
  'bigstral-12b-32k.yaml': seq(...overlapping(MISTRAL, 7, 8, 4)),
  'bigllama-3.1-1t-instruct.yaml': seq(...overlapping('mlabonne/BigLlama-3.1-681B-Instruct', 3, 105, 52).map(([m, a]): Run => [m, a, Math.min(a + 105, 209)])),
}

describe('reference mergekit configs', () => {
  const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort()

  it('finds the collected configs', () => {
    assert.ok(files.length >= 14, `only ${files.length} files`)
  })

  for (const file of files) {
    it(`${file}: output layer count (and sequence) as the header states`, () => {
      const text = readFileSync(join(DIR, file), 'utf8')
      const header = /^# expected.*?(\d+) output layers/m.exec(text)
      assert.ok(header, 'header comment states no expected layer count')
      const {config} = parseMergeConfig(text, file)
      const map = layerMap(config)
      assert.equal(map.length, Number(header[1]))
      assert.deepEqual(map.map((e) => e.output), map.map((_, i) => i))
      const expected = EXPECTED_SEQUENCES[file]
      if (expected) {
        assert.deepEqual(map.map((e) => `${e.model}:${e.source}`), expected)
      }
    })
  }

  it('bigstral: each source layer 4..27 appears twice, the rest once (header)', () => {
    const {config} = parseMergeConfig(readFileSync(join(DIR, 'bigstral-12b-32k.yaml'), 'utf8'), 'bigstral')
    const counts = new Map<number, number>()
    for (const e of layerMap(config)) {
      counts.set(e.source, (counts.get(e.source) ?? 0) + 1)
    }
    for (let l = 0; l < 32; l++) {
      assert.equal(counts.get(l), l >= 4 && l <= 27 ? 2 : 1, `layer ${l}`)
    }
  })

  it('linear-trick configs: every output layer is taken from the first source, both sources listed', () => {
    const {config} = parseMergeConfig(readFileSync(join(DIR, 'theprofessor-155b-linear-trick.yaml'), 'utf8'), 'prof')
    const map = layerMap(config)
    assert.equal(map[0]?.model, 'cognitivecomputations/dolphin-2.2-70b')
    assert.deepEqual(map[0]?.inputs.map((i) => i.model), ['cognitivecomputations/dolphin-2.2-70b', 'migtissera/SynthIA-70B-v1.2b'])
    assert.equal(map.at(-1)?.source, 79)
    assert.equal(config.merge_method, 'linear')
  })

  it('toYaml re-emits each of them so that dlec and mergekit both read the same config back', () => {
    const texts = files.map((f) => readFileSync(join(DIR, f), 'utf8'))
    const emitted = texts.map((t, i) => toYaml(parseMergeConfig(t, files[i] ?? '').config))
    for (const [i, yaml] of emitted.entries()) {
      assert.deepEqual(parseMergeConfig(yaml, 'again.yaml').config, parseMergeConfig(texts[i] ?? '', 'x').config, files[i])
    }
    const verdicts = mergekitCheck([...texts, ...emitted].map((yaml) => ({yaml})))
    for (const [i, file] of files.entries()) {
      const original = verdicts[i]
      const again = verdicts[i + files.length]
      assert.ok(original?.ok && again?.ok, `${file}: ${JSON.stringify([original, again])}`)
      assert.deepEqual([again.slices, again.merge_method, again.dtype], [original.slices, original.merge_method, original.dtype], file)
    }
  })
})
