import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {parseModelArg} from '../../src/cli/model-arg.js'
import {UsageError} from '../../src/errors.js'

describe('parseModelArg: folder, org/name, org/name@rev, --revision', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dlec-model-arg-'))
  after(() => rmSync(tmp, {recursive: true, force: true}))

  it('splits a Hub id and takes --revision, equal revisions from both places are one', () => {
    assert.deepEqual(parseModelArg('org/name'), {model: 'org/name'})
    assert.deepEqual(parseModelArg('org/name@v1.0'), {model: 'org/name', revision: 'v1.0'})
    assert.deepEqual(parseModelArg('org/name', 'refs/pr/3'), {model: 'org/name', revision: 'refs/pr/3'})
    assert.deepEqual(parseModelArg('org/name@main', 'main'), {model: 'org/name', revision: 'main'})
  })

  it('a folder is a folder, even with an @ in its name', () => {
    const dir = join(tmp, 'model@v2')
    mkdirSync(dir)
    assert.deepEqual(parseModelArg(dir), {model: dir})
  })

  it('one usage line for a conflict, an empty or doubled @, --revision with a folder', () => {
    const refused = (f: () => unknown, message: RegExp): void => assert.throws(f, (e: unknown) => e instanceof UsageError && message.test(e.message) && !e.message.includes('\n'))
    refused(() => parseModelArg('org/name@v1', 'v2'), /^MODEL org\/name@v1 names revision v1 but --revision says v2: give one$/)
    refused(() => parseModelArg('org/name@'), /^MODEL org\/name@: expected org\/name or org\/name@revision/)
    refused(() => parseModelArg('org/name@a@b', undefined, '--base'), /^--base org\/name@a@b: expected/)
    refused(() => parseModelArg(tmp, 'v1'), /^--revision v1: .* is a local folder/)
  })
})
