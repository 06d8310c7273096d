import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {evaluate} from '../../src/eval/evaluate.js'
import {DataError} from '../../src/errors.js'
import {GENERATED, ROOT, STORIES, python} from '../helpers/cli.js'
import {readmeParagraph} from './readme-texts.js'


const cacheDir = mkdtempSync(join(tmpdir(), 'dlec-cache-'))

describe('evaluate', () => {
  it('stories260K: reproduces the README perplexity table (original and three layer sequences)', async () => {
    const texts = [readmeParagraph()]
    const original = await evaluate({modelDir: STORIES, cacheDir, texts, threads: 1})
    assert.equal(original.tokens, 149)
    assert.equal(original.loss.toFixed(4), '1.0414')
    assert.equal(original.perplexity.toFixed(3), '2.833')
    assert.equal(original.meanKl, 0)
    assert.equal(original.top1Agreement, 1)
    const table: [number[], string][] = [
      [[0, 1, 2, 1, 2, 3, 4], '3.62'],
      [[0, 1, 2, 3, 2, 3, 4], '3.28'],
      [[0, 1, 2, 3, 4, 4], '3.38'],
    ]
    for (const [layers, ppl] of table) {
      const r = await evaluate({modelDir: STORIES, cacheDir, texts, layers, threads: 1})
      assert.equal(r.perplexity.toFixed(2), ppl, `[${layers.join(',')}]`)
      assert.equal(r.original.perplexity.toFixed(3), '2.833')
      assert.ok(Math.abs(r.lossDelta - (r.loss - original.loss)) < 1e-12)
    }
  })

  it('loss, KL(original || candidate) and top-1 agreement equal a torch reference (layer sequences with repeats)', async () => {
    const texts = [readmeParagraph(), 'Lily and Ben went to the park. They saw a big dog.', 'Tom had a red car.']
    const sequences = [
      [0, 1, 2, 2, 3, 4],
      [0, 1, 2, 3, 4, 4, 4],
    ]
    const stdout = execFileSync(python(), [join(ROOT, 'test/python/reference_eval.py')], {
      input: JSON.stringify({model_dir: STORIES, texts, sequences}),
      stdio: ['pipe', 'pipe', 'ignore'],
    })
    const expected = JSON.parse(stdout.toString()) as {loss: number; kl: number; top1: number; tokens: number}[]
    for (const [i, layers] of sequences.entries()) {
      const e = expected[i]
      assert.ok(e)
      const r = await evaluate({modelDir: STORIES, cacheDir, texts, layers, batchSize: 2, threads: 1})
      assert.equal(r.tokens, e.tokens)
      assert.ok(Math.abs(r.loss - e.loss) < 1e-4, `loss ${r.loss} vs ${e.loss}`)
      assert.ok(Math.abs(r.meanKl - e.kl) < 1e-4, `kl ${r.meanKl} vs ${e.kl}`)
      assert.equal(r.top1Agreement.toFixed(6), e.top1.toFixed(6))
    }
  })

  it('chunks texts longer than the window (each window starts with BOS) and caps tokens', async () => {
    const text = readmeParagraph()
    const r = await evaluate({modelDir: STORIES, cacheDir, texts: [text], windowSize: 64, threads: 1})
    // 149 ids after BOS, 63 per window (+ BOS): windows of 64, 64, 24 tokens; every one of the 149
    // tokens is still predicted once.
    assert.equal(r.rows, 3)
    assert.equal(r.chunkedTexts, 1)
    assert.equal(r.tokens, 149)
    const capped = await evaluate({modelDir: STORIES, cacheDir, texts: [text], maxTokens: 40, threads: 1})
    assert.equal(capped.truncated, true)
    assert.equal(capped.tokens, 39)
  })

  it('no usable text is a DataError', async () => {
    await assert.rejects(evaluate({modelDir: join(GENERATED, 'llama'), cacheDir, texts: ['', ''], threads: 1}), DataError)
  })
})
