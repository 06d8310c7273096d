import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Config, Plugin} from '@oclif/core'
import {ROOT, STORIES, dlec} from '../helpers/cli.js'
import {closest} from '../../src/cli/hooks/did-you-mean.js'
import {jsonError} from '../../src/cli/json-error.js'
import {ConfigError} from '../../src/errors.js'

let dir: string

describe('CLI conventions of the standalone bin', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dlec-cli-'))
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('`dlec help plan` prints the help of plan (plugin-help is a plugin of the bin)', async () => {
    const r = await dlec(['help', 'plan'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^USAGE\n {2}\$ dlec plan MODEL --out <value>/m)
    assert.match(r.stdout, /--out-shard-size|--cache-memory=<value>/)
    const root = await dlec(['--help'])
    assert.match(root.stdout, /^ {2}autocomplete +Display autocomplete installation instructions\./m)
    assert.match(root.stdout, /^ {2}help +Display help for dlec\./m)
  })

  it('a typo gets "did you mean" without a prompt when stdin is not a terminal', async () => {
    const r = await dlec(['pla', 'fixtures/stories260K', '--add-layers', '1'])
    assert.equal(r.code, 127, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /Warning: pla fixtures\/stories260K is not a dlec command\./)
    assert.equal(r.stderr.match(/Did you mean plan\? Run: dlec plan --help/g)?.length, 1, r.stderr)
    const sub = await dlec(['config', 'layrs', 'x.yaml'])
    assert.equal(sub.code, 127)
    assert.match(sub.stderr, /Did you mean config layers\? Run: dlec config layers --help/)
  })

  it('bash completion (plugin-autocomplete) completes `dlec pl` to plan and knows its flags', async () => {
    const env = {XDG_CACHE_HOME: dir}
    const r = await dlec(['autocomplete', '--refresh-cache'], {env})
    assert.equal(r.code, 0, r.stderr)
    const script = join(dir, 'dlec', 'autocomplete', 'functions', 'bash', 'dlec.bash')
    const complete = (...words: string[]): string[] =>
      execFileSync('bash', ['-c', `source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dlec_autocomplete; printf '%s\\n' "\${COMPREPLY[@]}"`, script, 'dlec', ...words])
        .toString()
        .split('\n')
        .filter((w) => w !== '')
    assert.deepEqual(complete('pl'), ['plan'])
    assert.ok(complete('merge', '--out-').includes('--out-shard-size'), complete('merge', '--out-').join(' '))
  })

  it('--json usage errors: one small {error: {code, message, exit}} and the exit code of the same error without --json (2)', async () => {
    const usage: string[][] = [
      ['plan', STORIES, '--bogus'],
      ['plan', '--out', 'x.yaml', '--add-layers', '1'],
      ['plan', STORIES, '--out', 'x.yaml', '--add-layers', '1', '--objective', 'nope'],
      ['plan', STORIES, '--out', 'x.yaml', '--add-layers', '0'],
      ['plan', STORIES, '--out', 'x.yaml'],
      ['plan', STORIES, 'extra', '--out', 'x.yaml', '--add-layers', '1'],
      ['merge', 'plan.yaml', join(dir, 'never'), '--out-shard-size', '2X'],
    ]
    for (const args of usage) {
      const plain = await dlec(args, {cwd: dir})
      const json = await dlec([...args, '--json'], {cwd: dir})
      assert.equal(plain.code, 2, `${args.join(' ')}: ${plain.stderr}`)
      assert.equal(json.code, 2, `${args.join(' ')} --json: ${json.stdout}`)
      assert.ok(Buffer.byteLength(json.stdout) < 1024, `${args.join(' ')}: ${Buffer.byteLength(json.stdout)} bytes`)
      const parsed = JSON.parse(json.stdout) as {error: {code: string; message: string; exit: number}}
      assert.deepEqual(Object.keys(parsed), ['error'])
      assert.deepEqual(Object.keys(parsed.error).sort(), ['code', 'exit', 'message'])
      assert.equal(parsed.error.exit, 2)
      assert.equal(parsed.error.code, 'DLEC_USAGE')
      assert.doesNotMatch(parsed.error.message, /\n|See more help/)
      assert.equal(json.stderr, '')
    }
    const unknown = JSON.parse((await dlec(['plan', STORIES, '--bogus', '--json'])).stdout) as {error: {message: string}}
    assert.equal(unknown.error.message, 'Nonexistent flag: --bogus')
  })

  it('--out-shard-size takes the one size syntax: 300K = 0.3M = 300KB = 300000 bytes, 2G and 5GB are accepted', async () => {
    const yaml = join(dir, 'all.yaml')
    writeFileSync(yaml, `merge_method: passthrough\nslices:\n- sources:\n  - model: ${STORIES}\n    layer_range: [0, 5]\n`)
    const shards = async (size: string): Promise<string[]> => {
      const r = await dlec(['merge', yaml, join(dir, 'never'), '--dry-run', '--engine', 'native', '--out-shard-size', size, '--json'])
      assert.equal(r.code, 0, `${size}: ${r.stdout}`)
      return (JSON.parse(r.stdout) as {files: string[]}).files.filter((f) => f.endsWith('.safetensors'))
    }
    const decimal = await shards('300K')
    assert.ok(decimal.length > 1, 'stories260K: 1,171,200 bytes of tensors in 300 kB shards')
    for (const same of ['0.3M', '300KB', '300000']) {
      assert.deepEqual(await shards(same), decimal, same)
    }
    for (const one of ['2G', '5GB', '5B']) {
      assert.deepEqual(await shards(one), ['model.safetensors'], one)
    }
  })

  it('--json errors from dlec itself keep their code and exit code', async () => {
    const args = ['config', 'validate', join(dir, 'none.yaml')]
    const plain = await dlec(args)
    const json = await dlec([...args, '--json'])
    assert.equal(plain.code, 3)
    assert.equal(json.code, 3)
    assert.deepEqual(JSON.parse(json.stdout), {error: {code: 'DLEC_CONFIG_READ', message: `${join(dir, 'none.yaml')}: cannot read mergekit config (no such file)`, exit: 3}})
  })

  it('closest: the leading words of what was typed against ids of as many words', () => {
    const ids = ['arch:list', 'config:layers', 'config:validate', 'curve', 'eval', 'plan', 'profile']
    assert.equal(closest('pla:fixtures/stories260K', ids), 'plan')
    assert.equal(closest('config:layrs:x.yaml', ids), 'config:layers')
    assert.equal(closest('cruve', ids), 'curve')
    assert.equal(closest('x', []), undefined)
  })

  it('jsonError: a DlecError as itself, anything unexpected as exit 1', () => {
    assert.deepEqual(jsonError(new ConfigError('x.yaml: bad')), {code: 'DLEC_CONFIG', message: 'x.yaml: bad', exit: 3})
    assert.deepEqual(jsonError(new TypeError('boom\n  on two lines')), {code: 'DLEC_INTERNAL', message: 'boom; on two lines', exit: 1})
    assert.equal(jsonError(new Error('x'.repeat(5000))).message.length, 500)
  })

  it('inside a host CLI the plugin brings none of these plugins: the host has its own', async () => {
    const plugin = new Plugin({root: ROOT, isRoot: true, ignoreManifest: true})
    await plugin.load()
    const config = await Config.load({root: ROOT, plugins: new Map([[plugin.name, plugin]])})
    assert.ok(config.findCommand('dlec:plan'))
    for (const id of ['autocomplete', 'help', 'plan']) {
      assert.equal(config.findCommand(id), undefined, id)
    }
    assert.deepEqual(plugin.pjson.oclif.plugins ?? [], [])
    assert.deepEqual(Object.keys(plugin.hooks), [])
  })
})
