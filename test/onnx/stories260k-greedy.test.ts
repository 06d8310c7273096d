import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {it} from 'node:test'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import {loadTokenizer} from '../../src/tokenizer/load-tokenizer.js'
import {STORIES} from '../helpers/cli.js'
import {readmeBlock} from '../eval/readme-texts.js'


it('stories260K: greedy decoding from "Once upon a time" reproduces the README continuation', async () => {
  const expected = readmeBlock('Greedy continuation')
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
