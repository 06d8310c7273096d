import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parseCacheMemory} from '../../src/curve/parse-cache-memory.js'

describe('parseCacheMemory', () => {
  it('reads bytes with binary K / M / G / T suffixes', () => {
    assert.equal(parseCacheMemory('0'), 0)
    assert.equal(parseCacheMemory('1000'), 1000)
    assert.equal(parseCacheMemory('512K'), 524_288)
    assert.equal(parseCacheMemory('2G'), 2_147_483_648)
    assert.equal(parseCacheMemory('2GiB'), 2_147_483_648)
    assert.equal(parseCacheMemory('1.5m'), 1_572_864)
    assert.equal(parseCacheMemory('1T'), 1_099_511_627_776)
  })

  it('refuses anything else with a one-line usage error', () => {
    for (const bad of ['', 'lots', '-1', '2X', '1e9']) {
      assert.throws(() => parseCacheMemory(bad), {name: 'UsageError', message: /--cache-memory .*: expected bytes with an optional K, M, G or T suffix/})
    }
  })
})
