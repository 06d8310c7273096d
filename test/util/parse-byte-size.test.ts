import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {parseByteSize} from '../../src/util/parse-byte-size.js'
import {python} from '../helpers/cli.js'

describe('parseByteSize (every size flag)', () => {
  it('reads the spellings mergekit reads exactly as its parse_kmb does (5B = 5e9)', () => {
    const spellings = ['1', '1000', '200K', '200k', '500M', '500m', '5B', '5b', '2B', '1234567']
    const mergekit = JSON.parse(
      execFileSync(python(), ['-c', 'import json, sys; from mergekit.options import parse_kmb; print(json.dumps([parse_kmb(s) for s in sys.argv[1:]]))', ...spellings]).toString(),
    ) as number[]
    assert.deepEqual(
      spellings.map((s) => parseByteSize(s, '--out-shard-size')),
      mergekit,
    )
  })

  it('G and T are decimal like K and M, GB the same as G; Ki / Mi / Gi / Ti are binary', () => {
    const cases: Array<[string, number]> = [
      ['2G', 2e9],
      ['2g', 2e9],
      ['2GB', 2e9],
      ['5GB', 5e9],
      ['500MB', 5e8],
      ['1T', 1e12],
      ['1.5G', 1.5e9],
      ['0.5K', 500],
      ['512Ki', 524_288],
      ['512KiB', 524_288],
      ['2Gi', 2_147_483_648],
      ['2GiB', 2_147_483_648],
      ['1.5Mi', 1_572_864],
      [' 2 G ', 2e9],
      ['7', 7],
    ]
    for (const [text, bytes] of cases) {
      assert.equal(parseByteSize(text, '--cache-memory'), bytes, text)
    }
  })

  it('0 only where the flag allows it; malformed sizes are one-line usage errors naming the flag', () => {
    assert.equal(parseByteSize('0', '--cache-memory', {allowZero: true}), 0)
    assert.throws(() => parseByteSize('0', '--out-shard-size'), {name: 'UsageError', message: '--out-shard-size 0: must be a positive size of at most 2^53 bytes'})
    for (const bad of ['', 'lots', '5X', '-1', '2BB', '2iB', 'G', '1e9', '5 G B', '10000000T']) {
      assert.throws(() => parseByteSize(bad, '--out-shard-size'), (e: Error & {exitCode?: number}) => {
        assert.equal(e.name, 'UsageError', bad)
        assert.equal(e.exitCode, 2)
        assert.match(e.message, new RegExp(`^--out-shard-size ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `))
        return true
      })
    }
  })
})
