import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {after, describe, it} from 'node:test'
import {findMergekit} from '../../src/mergekit/run-mergekit.js'
import {dlec, STORIES} from '../helpers/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-cmd-merge-'))
after(() => rmSync(tmp, {recursive: true, force: true}))
const config = join(tmp, 'plan.yml')
writeFileSync(config, `slices:\n- sources:\n  - model: ${STORIES}\n    layer_range: [0, 4]\n- sources:\n  - model: ${STORIES}\n    layer_range: [3, 5]\nmerge_method: passthrough\n`)
/** PATH without the Python venv: mergekit-yaml is not found there. */
const PATH_WITHOUT_MERGEKIT = [dirname(process.execPath), '/usr/bin', '/bin'].join(':')

describe('dlec merge', () => {
  it('--dry-run prints the copy plan and writes nothing', async () => {
    const out = join(tmp, 'dry')
    const r = await dlec(['merge', config, out, '--dry-run'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /Plan: 6 layers, 57 tensors/)
    assert.match(r.stdout, /model\.layers\.4\.mlp\.up_proj\.weight .* <- model\.layers\.3\.mlp\.up_proj\.weight/)
    assert.equal(existsSync(out), false)
  })

  it('auto without mergekit on PATH uses the native engine and says so; --json returns the report', async () => {
    const out = join(tmp, 'auto-native')
    const r = await dlec(['merge', config, out, '--json'], {env: {PATH: PATH_WITHOUT_MERGEKIT}})
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout) as {engine: string; engineReason: string; layers: number; files: string[]}
    assert.equal(report.engine, 'native')
    assert.match(report.engineReason, /mergekit-yaml not found on PATH/)
    assert.equal(report.layers, 6)
    assert.deepEqual(readdirSync(out).sort(), [...report.files].sort())
  })

  it('auto with mergekit on PATH runs mergekit (and --out-shard-size reaches it)', async () => {
    assert.ok(findMergekit({pathEnv: process.env.PATH}), 'mergekit-yaml on PATH')
    const out = join(tmp, 'auto-mergekit')
    const r = await dlec(['merge', config, out, '--out-shard-size', '200K'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /Engine: mergekit \(auto: mergekit-yaml found at /)
    assert.ok(readdirSync(out).includes('model-00001-of-00008.safetensors'), readdirSync(out).join(' '))
  })

  it('refuses bad input with one line and the right exit code', async () => {
    const existing = join(tmp, 'auto-native')
    let r = await dlec(['merge', config, existing, '--engine', 'native'])
    assert.equal(r.code, 6)
    assert.match(r.stderr, /^Error: .*auto-native already exists \(use --force to replace it\)\n$/)
    r = await dlec(['merge', config, join(tmp, 'x'), '--engine', 'mergekit', '--mergekit', join(tmp, 'nope')])
    assert.equal(r.code, 7)
    assert.match(r.stderr, /nope: mergekit-yaml not found at that path/)
    r = await dlec(['merge', config, join(tmp, 'x'), '--out-shard-size', '5X'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /--out-shard-size 5X: expected bytes/)
    const linear = join(tmp, 'linear.yml')
    writeFileSync(linear, `models:\n- model: ${STORIES}\nmerge_method: linear\n`)
    r = await dlec(['merge', linear, join(tmp, 'x'), '--engine', 'native'])
    assert.equal(r.code, 6)
    assert.match(r.stderr, /merge_method linear is not supported by the native engine .*use --engine mergekit/)
    assert.equal(r.stderr.trim().split('\n').length, 1)
    assert.equal(existsSync(join(tmp, 'x')), false)
  })
})
