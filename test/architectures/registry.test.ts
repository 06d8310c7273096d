import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {listArchitectures, resolveArchitecture} from '../../src/architectures/registry.js'
import {STORIES, dlec} from '../helpers/cli.js'

describe('architecture registry', () => {
  it('resolves the bundled stories260K config to llama', () => {
    const config = JSON.parse(readFileSync(`${STORIES}config.json`, 'utf8'))
    assert.equal(resolveArchitecture(config).name, 'llama')
  })

  it('refuses an unknown architecture by name', () => {
    assert.throws(
      () => resolveArchitecture({architectures: ['FooForCausalLM'], model_type: 'foo'}, 'x/config.json'),
      /x\/config.json: unsupported architecture FooForCausalLM/,
    )
  })

  it('lists every family from the CLI, plugin ids stripped in the standalone form', async () => {
    const res = await dlec(['arch', 'list', '--json'])
    assert.equal(res.code, 0, res.stderr)
    const names = (JSON.parse(res.stdout) as {name: string}[]).map((e) => e.name)
    assert.deepEqual(names, listArchitectures().map((d) => d.name))
  })
})
