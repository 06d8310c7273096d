import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {it} from 'node:test'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import {loadTokenizer} from '../../src/tokenizer/load-tokenizer.js'
import {STORIES} from '../helpers/cli.js'

/** The continuation the model README documents (a code block under its "Greedy continuation" heading). */
function readmeContinuation(): string {
  const readme = readFileSync(join(STORIES, 'README.md'), 'utf8')
  const section = readme.split('## Greedy continuation')[1] ?? ''
  const block = /```\n([\s\S]*?)\n```/.exec(section)
  assert.ok(block?.[1], 'README has the greedy continuation block')
  return block[1]
}

it('stories260K: greedy decoding from "Once upon a time" reproduces the README continuation', async () => {
  const expected = readmeContinuation()
  const tok = loadTokenizer(STORIES)
  const ids = tok.encode('Once upon a time')
  assert.deepEqual(ids, [1, 403, 407, 261, 378])
  const dec = await openDecoder({modelDir: STORIES, cacheDir: mkdtempSync(join(tmpdir(), 'dlec-cache-')), threads: 1})
  try {
    let text = ''
    while (text.length < expected.length && ids.length < 512) {
      const r = await dec.run({inputIds: [ids], outputs: {logits: 'last'}})
      const logits = r.outputs.logits?.data as Float32Array
      let best = 0
      for (let v = 1; v < logits.length; v++) {
        if ((logits[v] as number) > (logits[best] as number)) {
          best = v
        }
      }
      ids.push(best)
      text = tok.decode(ids)
    }
    assert.equal(text.slice(0, expected.length), expected)
  } finally {
    await dec.release()
  }
})
