import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {loadTexts, splitParagraphs} from '../../src/data/load-texts.js'
import {DataError} from '../../src/errors.js'
import {ROOT, python} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dlec-data-'))
const file = (name: string, text: string): string => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

/** Writes Parquet with pyarrow (the library HF datasets uses), so the reader is checked against a foreign writer. */
function writeParquet(name: string, script: string): string {
  const p = join(dir, name)
  execFileSync(python(), ['-c', `import pyarrow as pa, pyarrow.parquet as pq, sys\n${script}\npq.write_table(t, sys.argv[1])`, p])
  return p
}

async function rejectsData(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof DataError && pattern.test(error.message) && !error.message.includes('\n'))
}

describe('loadTexts', () => {
  it('splits plain text into blank-line separated paragraphs', async () => {
    const p = file('a.txt', '\uFEFFfirst line\nstill first\n\n\n  second  \r\n\r\nthird\n \n')
    assert.deepEqual(await loadTexts({path: p}), ['first line\nstill first', 'second', 'third'])
    assert.deepEqual(await loadTexts({path: p, maxSamples: 2}), ['first line\nstill first', 'second'])
    assert.deepEqual(splitParagraphs('one'), ['one'])
  })

  it('streams text in chunks exactly as splitParagraphs splits the whole: random separators, CRLF, a multi-byte character and a line across chunk boundaries', async () => {
    let seed = 7
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    const alphabet = ['a', 'b', ' ', '\t', '\r', '\n', '\n', '\f', 'é', '漢', '🙂']
    for (let trial = 0; trial < 40; trial++) {
      const raw = Array.from({length: 200}, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
      const p = file(`r${trial}.txt`, raw)
      const want = splitParagraphs(raw)
      if (want.length === 0) {
        continue
      }
      assert.deepEqual(await loadTexts({path: p}), want, JSON.stringify(raw))
    }
    // over 1 MiB, so the reader sees several chunks; 3-byte characters make boundaries fall inside one
    const para = (i: number): string => `${'漢字'.repeat(1000 + i)} line ${i}\r\nsecond line ${i}`
    const big = Array.from({length: 200}, (_, i) => para(i)).join('\n \t\n') + '\n' + 'x'.repeat(3 * 1024 ** 2)
    const p = file('big.txt', big)
    assert.deepEqual(await loadTexts({path: p}), splitParagraphs(big))
  })

  it('stops reading at maxSamples: what follows the samples kept is never read (here, bytes that are not UTF-8)', async () => {
    const good = Array.from({length: 50}, (_, i) => `story ${i} ${'word '.repeat(5000)}`).join('\n\n')
    const bad = Buffer.concat([Buffer.from(good + '\n\n'), Buffer.alloc(2 * 1024 ** 2, 'a'), Buffer.from([0xff, 0xfe])])
    const p = join(dir, 'tail.txt')
    writeFileSync(p, bad)
    assert.deepEqual((await loadTexts({path: p, maxSamples: 3})).map((t) => t.slice(0, 8)), ['story 0 ', 'story 1 ', 'story 2 '])
    await rejectsData(loadTexts({path: p}), /tail\.txt: not valid UTF-8/)
    const rows = Array.from({length: 30}, (_, i) => JSON.stringify({text: `row ${i} ${'x'.repeat(60_000)}`})).join('\n')
    const jsonl = join(dir, 'tail.jsonl')
    writeFileSync(jsonl, rows + '\n{oops\n')
    assert.equal((await loadTexts({path: jsonl, maxSamples: 30})).length, 30)
    await rejectsData(loadTexts({path: jsonl}), /tail\.jsonl:31: not valid JSON/)
  })

  it('reads the bundled calibration stories as 20 paragraphs', async () => {
    const path = join(ROOT, 'fixtures/calibration/stories.txt')
    const texts = await loadTexts({path})
    assert.equal(texts.length, 20)
    assert.ok(texts[0]?.startsWith('Once upon a time, there was a little girl named Lily.'))
    assert.equal(texts.join('\n\n'), readFileSync(path, 'utf8').trim())
  })

  it('reads JSONL and JSON arrays with a chosen field', async () => {
    const p = file('a.jsonl', '{"text":"alpha","body":"x"}\n\n{"text":"beta","body":"y"}\n')
    assert.deepEqual(await loadTexts({path: p}), ['alpha', 'beta'])
    assert.deepEqual(await loadTexts({path: p, textField: 'body'}), ['x', 'y'])
    const arr = file('a.json', JSON.stringify([{content: 'one'}, {content: 'two'}]))
    assert.deepEqual(await loadTexts({path: arr, textField: 'content'}), ['one', 'two'])
    await rejectsData(loadTexts({path: p, textField: 'missing'}), /a\.jsonl: row 1 has no string field "missing"/)
    await rejectsData(loadTexts({path: file('bad.jsonl', '{"text":"a"}\n{oops\n')}), /bad\.jsonl:2: not valid JSON/)
  })

  it('joins ShareGPT turns with one space, as the original DLEC did', async () => {
    const rows = [
      {conversations: [{from: 'human', value: 'Hi there'}, {from: 'gpt', value: 'Hello!'}]},
      {conversations: [{from: 'human', value: 'Only one'}]},
    ]
    const p = file('chat.jsonl', rows.map((row) => JSON.stringify(row)).join('\n'))
    const expected = ['Hi there Hello!', 'Only one']
    assert.deepEqual(await loadTexts({path: p, format: 'sharegpt'}), expected)
    assert.deepEqual(await loadTexts({path: p}), expected, 'auto detects conversations')
    await rejectsData(loadTexts({path: file('c.txt', 'x'), format: 'sharegpt'}), /c\.txt: ShareGPT data must be/)
  })

  it('reads Parquet written by pyarrow, plain and ShareGPT', async () => {
    const plain = writeParquet('p.parquet', "t = pa.table({'text': ['first doc', '', 'third doc'], 'n': [1, 2, 3]})")
    assert.deepEqual(await loadTexts({path: plain}), ['first doc', 'third doc'])
    const chat = writeParquet(
      'chat.parquet',
      "t = pa.table({'conversations': [[{'from': 'human', 'value': 'a b'}, {'from': 'gpt', 'value': 'c'}], [{'from': 'human', 'value': 'd'}]]})",
    )
    assert.deepEqual(await loadTexts({path: chat}), ['a b c', 'd'])
    assert.deepEqual(await loadTexts({path: chat, format: 'sharegpt', maxSamples: 1}), ['a b c'])
  })

  it('names the file for missing, empty, directory and corrupt input', async () => {
    await rejectsData(loadTexts({path: join(dir, 'nope.txt')}), /nope\.txt: cannot read the data file \(no such file\)/)
    await rejectsData(loadTexts({path: file('empty.txt', ' \n\n ')}), /empty\.txt: no text samples found/)
    await rejectsData(loadTexts({path: file('empty.jsonl', '')}), /empty\.jsonl: no text samples found/)
    const sub = join(dir, 'sub')
    mkdirSync(sub)
    await rejectsData(loadTexts({path: sub}), /sub: is a directory/)
    await rejectsData(loadTexts({path: file('broken.parquet', 'not parquet at all')}), /broken\.parquet: cannot read Parquet/)
    await rejectsData(loadTexts({path: file('x.txt', 'a'), maxSamples: 0}), /maxSamples must be a positive integer/)
  })
})
