import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {loadTexts} from '../../src/data/load-texts.js'
import {tokenWindows} from '../../src/eval/token-windows.js'
import {encodePrefix} from '../../src/tokenizer/encode-prefix.js'
import {loadTokenizer} from '../../src/tokenizer/load-tokenizer.js'
import {ROOT, STORIES} from '../helpers/cli.js'
import {rejectsWith} from '../helpers/hostile.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-hostile-data-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

describe('hostile data files', () => {
  it('a binary file, invalid UTF-8 and a FIFO are DataErrors naming the file (never read as text, no hang)', async () => {
    const binary = join(tmp, 'weights.txt')
    writeFileSync(binary, readFileSync(join(STORIES, 'model.safetensors')).subarray(0, 4096))
    await rejectsWith(() => loadTexts({path: binary}), 'data', /weights\.txt: (not valid UTF-8 text|holds a NUL byte)/)
    const latin1 = join(tmp, 'latin1.txt')
    writeFileSync(latin1, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]))
    await rejectsWith(() => loadTexts({path: latin1}), 'data', /latin1\.txt: not valid UTF-8 text/)
    const nul = join(tmp, 'nul.jsonl')
    writeFileSync(nul, '{"text": "a"}\n\0\n')
    await rejectsWith(() => loadTexts({path: nul}), 'data', /nul\.jsonl: holds a NUL byte at character 14/)
    const fifo = join(tmp, 'fifo.txt')
    execFileSync('mkfifo', [fifo])
    await rejectsWith(() => loadTexts({path: fifo}), 'data', /fifo\.txt: not a regular file/)
  })

  it('only what --max-tokens can use is tokenized, with the same ids as tokenizing everything', () => {
    const tokenizer = loadTokenizer(STORIES)
    const story = readFileSync(join(ROOT, 'fixtures/calibration/stories.txt'), 'utf8').replace(/\s+/g, ' ')
    const long = story.repeat(4)
    for (const max of [1, 2, 64, 500]) {
      assert.deepEqual(encodePrefix(tokenizer, long, max), tokenizer.encode(long).slice(0, max), `max ${max}`)
    }
    const noSpaces = 'abcdefghij'.repeat(2000)
    assert.deepEqual(encodePrefix(tokenizer, noSpaces, 64), tokenizer.encode(noSpaces).slice(0, 64))
  })

  it('a 5 MB single-line text with a 64-token budget yields 64 tokens (the rest is never tokenized)', () => {
    const tokenizer = loadTokenizer(STORIES)
    const huge = 'Once upon a time there was a little girl named Lily. '.repeat(100_000)
    assert.ok(huge.length > 5_000_000)
    const w = tokenWindows({tokenizer, texts: [huge], windowSize: 512, maxTokens: 64})
    assert.equal(w.rows.flat().length, 64)
    assert.deepEqual(w.rows[0], tokenizer.encode(huge.slice(0, 2000)).slice(0, 64))
  })
})
