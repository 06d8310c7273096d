import assert from 'node:assert/strict'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {after, describe, it} from 'node:test'
import {findMergekit} from '../../src/merge/engines/run-mergekit.js'
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

  it('resolves Hub ids in the YAML from the HF cache (HF_HUB_CACHE, HF_HUB_OFFLINE)', async () => {
    const commit = 'ab'.repeat(20)
    const repo = join(tmp, 'hub', 'models--karpathy--stories260K')
    const snapshot = join(repo, 'snapshots', commit)
    mkdirSync(join(repo, 'blobs'), {recursive: true})
    mkdirSync(join(repo, 'refs'))
    mkdirSync(snapshot, {recursive: true})
    for (const file of readdirSync(STORIES)) {
      copyFileSync(join(STORIES, file), join(repo, 'blobs', `blob-${file}`))
      symlinkSync(`../../blobs/blob-${file}`, join(snapshot, file))
    }
    writeFileSync(join(repo, 'refs', 'main'), commit)
    const hubYaml = join(tmp, 'hub.yml')
    writeFileSync(hubYaml, 'slices:\n- sources:\n  - model: karpathy/stories260K\n    layer_range: [0, 3]\nmerge_method: passthrough\n')
    const out = join(tmp, 'from-hub')
    const r = await dlec(['merge', hubYaml, out], {env: {PATH: PATH_WITHOUT_MERGEKIT, HF_HUB_CACHE: join(tmp, 'hub'), HF_HUB_OFFLINE: '1'}})
    assert.equal(r.code, 0, r.stderr)
    assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /base_model:\n- karpathy\/stories260K\n/)
    assert.equal((JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as {num_hidden_layers: number}).num_hidden_layers, 3)
    const missing = await dlec(['merge', hubYaml, join(tmp, 'y')], {env: {PATH: PATH_WITHOUT_MERGEKIT, HF_HUB_CACHE: join(tmp, 'empty-hub'), HF_HUB_OFFLINE: '1'}})
    assert.equal(missing.code, 11)
    assert.match(missing.stderr, /karpathy\/stories260K: not in the Hugging Face cache .*empty-hub and HF_HUB_OFFLINE is set/)
    assert.equal(existsSync(join(tmp, 'y')), false)
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
