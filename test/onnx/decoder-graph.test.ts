import assert from 'node:assert/strict'
import {cpSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {openDecoder, type Decoder} from '../../src/onnx/open-decoder.js'
import {fusedAttentionFits} from '../../src/onnx/decoder-graph.js'
import {GENERATED, STORIES} from '../helpers/cli.js'
import {maxDiffTokens, writeReferences, type Reference} from './reference.js'
import {FAMILIES, LLAMA_VARIANTS} from '../helpers/families.js'

// Every family's tiny checkpoint (written by transformers), the bundled real model, a bf16 and a
// sharded checkpoint, and layer sequences with repeats (transformers runs the same modules repeated).
const GRAPH_FAMILIES = [...FAMILIES, ...LLAMA_VARIANTS]
const SEQUENCES: Record<string, [string, number[]]> = {
  'llama@seq': ['llama', [0, 1, 1, 2, 3]],
  'gemma2@seq': ['gemma2', [0, 1, 2, 2, 3, 1]],
  'phi@seq': ['phi', [0, 2, 2, 1]],
  'gpt2@seq': ['gpt2', [0, 0, 1, 2]],
  'qwen3@seq': ['qwen3', [1, 0, 1]],
}
const TOL = 1e-4

// Config variants of the family fixtures (same weights): RoPE scaling rules, and sliding windows
// short enough to matter on the test rows (up to 9 tokens).
const VARIANTS: Record<string, [string, Record<string, unknown>]> = {
  'llama-rope-linear': ['llama', {rope_parameters: {rope_type: 'linear', factor: 4, rope_theta: 10000}}],
  'llama-rope-llama3': [
    'llama',
    {rope_parameters: {rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16, rope_theta: 500000}},
  ],
  'mistral-window3': ['mistral', {sliding_window: 3}],
  'gemma2-window4': ['gemma2', {sliding_window: 4}],
}

const variantRoot = mkdtempSync(join(tmpdir(), 'dlec-variants-'))
const dirOf = (name: string): string => (name === 'stories' ? STORIES : name in VARIANTS ? join(variantRoot, name) : join(GENERATED, name))

/**
 * Copies a fixture with config.json keys replaced, editing the text so other values keep their
 * spelling (transformers rejects `30` where its config class declares a float written as `30.0`).
 */
function writeVariant(name: string, family: string, patch: Record<string, unknown>): void {
  const dir = join(variantRoot, name)
  cpSync(join(GENERATED, family), dir, {recursive: true})
  let text = readFileSync(join(dir, 'config.json'), 'utf8')
  for (const [key, value] of Object.entries(patch)) {
    const entry = new RegExp(`"${key}": (\\{[^}]*\\}|[^,\\n}]+)`)
    assert.match(text, entry, `${family} config.json has ${key}`)
    text = text.replace(entry, `"${key}": ${JSON.stringify(value)}`)
  }
  writeFileSync(join(dir, 'config.json'), text)
}

describe('decoder graphs match transformers (logits and every hidden state, padded batch)', () => {
  let ref: (name: string) => Reference
  let cacheDir: string
  const open: Decoder[] = []
  before(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'dlec-cache-'))
    const targets: Record<string, string> = {stories: STORIES}
    for (const f of GRAPH_FAMILIES) {
      targets[f] = dirOf(f)
    }
    for (const [name, [family, layers]] of Object.entries(SEQUENCES)) {
      targets[name] = `${dirOf(family)}@${layers.join(',')}`
    }
    for (const [name, [family, patch]] of Object.entries(VARIANTS)) {
      writeVariant(name, family, patch)
      targets[name] = dirOf(name)
    }
    ref = writeReferences(targets)
  })
  after(async () => {
    for (const d of open) {
      await d.release()
    }
  })

  const check = async (name: string, modelDir: string, layers?: number[]): Promise<void> => {
    const r = ref(name)
    const dec = await openDecoder({modelDir, cacheDir, threads: 1})
    open.push(dec)
    const out = await dec.run({inputIds: r.ids, layers, outputs: {logits: 'all', hidden: 'all', finalHidden: true}})
    const L = layers?.length ?? dec.spec.numLayers
    const diffs: Record<string, number> = {}
    diffs.logits = maxDiffTokens(out.outputs.logits?.data as Float32Array, r.read('logits'), r.lengths, dec.spec.vocab)
    for (let k = 0; k < L; k++) {
      diffs[`hidden_${k}`] = maxDiffTokens(out.outputs[`hidden_${k}`]?.data as Float32Array, r.read(`hidden_${k}`), r.lengths, dec.spec.hidden)
    }
    // transformers' last hidden state is the one after the final norm.
    diffs[`hidden_${L}`] = maxDiffTokens(out.outputs.final_hidden?.data as Float32Array, r.read(`hidden_${L}`), r.lengths, dec.spec.hidden)
    for (const [k, d] of Object.entries(diffs)) {
      assert.ok(d <= TOL, `${name} ${k}: max |diff| ${d} > ${TOL}`)
    }
  }

  it('stories260K (real pretrained llama)', async () => {
    await check('stories', STORIES)
  })
  for (const f of GRAPH_FAMILIES) {
    it(f, async () => {
      await check(f, dirOf(f))
    })
  }
  for (const [name, [family, patch]] of Object.entries(VARIANTS)) {
    it(`${family} with ${JSON.stringify(patch)}`, async () => {
      await check(name, dirOf(name))
    })
  }
  it('the variants change the output (so the checks above can fail)', () => {
    for (const [name, [family]] of Object.entries(VARIANTS)) {
      const d = maxDiffTokens(ref(name).read('logits'), ref(family).read('logits'), ref(family).lengths, 512)
      assert.ok(d > 1e-3, `${name} logits equal ${family}'s (max diff ${d})`)
    }
  })
  for (const [name, [family, layers]] of Object.entries(SEQUENCES)) {
    it(`${family} layer sequence [${layers.join(',')}] (repeats share weights)`, async () => {
      await check(name, dirOf(family), layers)
    })
  }

  // KV-cache graphs: each row alone (unpadded), a 3-token prompt, then one token per step with the
  // returned cache; the logits at every position must be transformers' full-sequence logits.
  const checkCached = async (name: string, modelDir: string, layers?: number[]): Promise<void> => {
    const r = ref(name)
    const dec = await openDecoder({modelDir, cacheDir, threads: 1, maxSessions: 1})
    open.push(dec)
    const V = dec.spec.vocab
    const T = Math.max(...r.lengths)
    const logitsRef = r.read('logits')
    let worst = 0
    for (const [b, row] of r.ids.entries()) {
      let step = await dec.decodeStep({inputIds: [row.slice(0, 3)], layers})
      for (let t = 2; t < row.length; t++) {
        if (t > 2) {
          step = await dec.decodeStep({inputIds: [[row[t] as number]], layers, past: step.present})
        }
        assert.equal(step.present.length, t + 1)
        worst = Math.max(worst, maxDiffTokens(step.logits, logitsRef.subarray((b * T + t) * V, (b * T + t + 1) * V), [1], V))
      }
    }
    assert.ok(worst <= TOL, `${name} KV-cache logits: max |diff| ${worst} > ${TOL}`)
  }
  it('KV-cache decoding: stories260K', async () => {
    await checkCached('stories', STORIES)
  })
  for (const name of [...FAMILIES, ...Object.keys(VARIANTS)]) {
    it(`KV-cache decoding: ${name}`, async () => {
      await checkCached(name, dirOf(name))
    })
  }
  for (const [name, [family, layers]] of Object.entries(SEQUENCES)) {
    it(`KV-cache decoding: ${family} layer sequence [${layers.join(',')}] (one cache slot per position)`, async () => {
      await checkCached(name, dirOf(family), layers)
    })
  }

  it('KV-cache graphs use fused attention (GroupQueryAttention) where it fits, so both paths are checked above', async () => {
    const fits: Record<string, boolean> = {}
    for (const name of ['stories', 'llama', 'qwen3', 'phi3', 'mistral', 'gemma2', 'phi', 'gpt2']) {
      const dec = await openDecoder({modelDir: dirOf(name), cacheDir, threads: 1})
      open.push(dec)
      fits[name] = fusedAttentionFits(dec.spec, Array.from({length: dec.spec.numLayers}, (_, i) => i))
    }
    // head_dim 16 with full rotary: fused; head_dim 8 / 12, sliding windows, partial rotary: standard ops.
    assert.deepEqual(fits, {stories: false, llama: true, qwen3: true, phi3: true, mistral: false, gemma2: false, phi: false, gpt2: false})
  })

  it('in-graph norms and cosines equal those of transformers hidden states; last-token outputs pick each row\'s last token', async () => {
    const r = ref('llama')
    const dec = await openDecoder({modelDir: dirOf('llama'), cacheDir, threads: 1})
    open.push(dec)
    const H = dec.spec.hidden
    const L = dec.spec.numLayers
    const out = await dec.run({inputIds: r.ids, outputs: {logits: 'last', norms: true, cosineGaps: 8, hidden: [1], hiddenTokens: 'last'}})
    const T = Math.max(...r.lengths)
    const hs = Array.from({length: L}, (_, k) => r.read(`hidden_${k}`))
    const vec = (h: Float32Array, b: number, t: number): Float32Array => h.subarray((b * T + t) * H, (b * T + t + 1) * H)
    const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * (b[i] as number), 0)
    let worst = 0
    r.lengths.forEach((len, b) => {
      for (let t = 0; t < len; t++) {
        for (let k = 0; k < L; k++) {
          const a = vec(hs[k] as Float32Array, b, t)
          const norm = Math.sqrt(dot(a, a))
          worst = Math.max(worst, Math.abs(norm - ((out.outputs[`norm_${k}`]?.data as Float32Array)[b * T + t] as number)) / norm)
          for (let n = 1; k + n < L; n++) {
            const c = vec(hs[k + n] as Float32Array, b, t)
            const cos = dot(a, c) / (norm * Math.sqrt(dot(c, c)))
            worst = Math.max(worst, Math.abs(cos - ((out.outputs[`cos_${k}_${n}`]?.data as Float32Array)[b * T + t] as number)))
          }
        }
      }
    })
    assert.ok(worst < 1e-5, `norm/cos worst relative diff ${worst}`)
    assert.deepEqual(out.outputs.hidden_1?.dims, [3, H])
    assert.deepEqual(out.outputs.cos_0_8?.dims, undefined, 'cos_0_8 needs 8 layers; the model has 4')
    assert.deepEqual(out.outputs.cos_0_4?.dims, [3, T])
    const h1 = r.read('hidden_1')
    const logitsRef = r.read('logits')
    r.lengths.forEach((len, b) => {
      const ours = (out.outputs.hidden_1?.data as Float32Array).subarray(b * H, (b + 1) * H)
      assert.ok(maxDiffTokens(ours, vec(h1, b, len - 1), [1], H) < TOL)
      const V = dec.spec.vocab
      const lastLogits = (out.outputs.logits?.data as Float32Array).subarray(b * V, (b + 1) * V)
      assert.ok(maxDiffTokens(lastLogits, logitsRef.subarray((b * T + len - 1) * V, (b * T + len) * V), [1], V) < TOL)
    })
  })

  it('a prefix run to a hidden state, then the suffix from that state, gives the full sequence\'s logits', async () => {
    const r = ref('gemma2@seq')
    const dec = await openDecoder({modelDir: dirOf('gemma2'), cacheDir, threads: 1})
    open.push(dec)
    const layers = SEQUENCES['gemma2@seq']?.[1] as number[]
    const prefix = await dec.run({inputIds: r.ids, layers: layers.slice(0, 3), outputs: {logits: 'none', hidden: [3]}})
    const h = prefix.outputs.hidden_3
    assert.ok(h)
    const suffix = await dec.run({
      hidden: {data: h.data as Float32Array, dims: [3, Math.max(...r.lengths), dec.spec.hidden], lengths: r.lengths},
      layers: layers.slice(3),
      outputs: {logits: 'all'},
    })
    const d = maxDiffTokens(suffix.outputs.logits?.data as Float32Array, r.read('logits'), r.lengths, dec.spec.vocab)
    assert.ok(d <= TOL, `suffix logits differ by ${d}`)
  })
})
