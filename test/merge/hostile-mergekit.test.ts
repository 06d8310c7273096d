import assert from 'node:assert/strict'
import {chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {mergeModelIter} from '../../src/merge/merge-model.js'
import {findMergekit, runMergekit} from '../../src/merge/engines/run-mergekit.js'
import {STORIES} from '../helpers/cli.js'
import {copyStories, drain, leftovers, rejectsWith} from '../helpers/hostile.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-hostile-mk-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

const config = join(tmp, 'plan.yaml')
writeFileSync(config, `slices:\n- sources:\n  - model: ${STORIES}\n    layer_range: [0, 3]\nmerge_method: passthrough\n`)

/** Processes whose command line mentions `text` (to prove a child was killed). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text)
      } catch {
        return false
      }
    })
    .map(Number)
}

/** A stand-in for mergekit-yaml that exits 0 after writing `files` (mergekit's argv: CONFIG OUT ...). */
function fakeMergekit(name: string, script: string): string {
  const path = join(tmp, name)
  writeFileSync(path, `#!/usr/bin/env bash\nset -e\nout="$2"\n${script}\nexit 0\n`)
  chmodSync(path, 0o755)
  return path
}

describe('mergekit engine: faults', () => {
  it('aborted while mergekit-yaml runs: the child is killed, its staging folder removed, no OUT', async () => {
    const mergekit = findMergekit({pathEnv: process.env.PATH})
    assert.ok(mergekit, 'mergekit-yaml on PATH (scripts/setup-python.sh)')
    const out = join(tmp, 'aborted')
    const controller = new AbortController()
    const it = runMergekit({mergekit, config, out, signal: controller.signal})
    await rejectsWith(async () => {
      for (;;) {
        const r = await it.next()
        if (r.done === true) {
          return
        }
        if (r.value.type === 'start') {
          setTimeout(() => controller.abort(), 300)
        }
      }
    }, 'interrupted', /mergekit-yaml was interrupted; nothing was written to .*aborted/)
    assert.ok(!existsSync(out))
    assert.deepEqual(leftovers(tmp), [])
    assert.deepEqual(processesMentioning('.aborted.dlec-partial-'), [])
  })

  it('a mergekit that exits 0 with a corrupt safetensors leaves no OUT (MergekitError, exit 7)', async () => {
    const mergekit = fakeMergekit('bad-output', 'mkdir -p "$out"; echo "{}" > "$out/config.json"; printf "garbage" > "$out/model.safetensors"')
    const out = join(tmp, 'bad')
    const e = await rejectsWith(() => drain(runMergekit({mergekit, config, out})), 'mergekit', /mergekit-yaml exited 0 but its output is unusable: .*model\.safetensors/)
    assert.equal(e.exitCode, 7)
    assert.ok(!existsSync(out))
    assert.deepEqual(leftovers(tmp), [])
  })

  it('a mergekit that exits 0 having written nothing, or no config.json, leaves no OUT', async () => {
    for (const [name, script] of [
      ['nothing', 'mkdir -p "$out"'],
      ['no-config', `mkdir -p "$out"; cp "${join(STORIES, 'model.safetensors')}" "$out/"`],
    ] as const) {
      const out = join(tmp, `${name}-out`)
      await rejectsWith(() => drain(runMergekit({mergekit: fakeMergekit(name, script), config, out})), 'mergekit', /mergekit-yaml exited 0 but its output is unusable: config\.json/)
      assert.ok(!existsSync(out))
    }
    assert.deepEqual(leftovers(tmp), [])
  })

  it('--engine mergekit with a donor tokenizer.json symlinked outside the model is refused before mergekit runs', async () => {
    const model = copyStories(join(tmp, 'linked-model'))
    writeFileSync(join(tmp, 'secret'), 'hf_token\n')
    rmSync(join(model, 'tokenizer.json'))
    symlinkSync(join(tmp, 'secret'), join(model, 'tokenizer.json'))
    const yaml = join(tmp, 'linked.yaml')
    writeFileSync(yaml, `slices:\n- sources:\n  - model: ${model}\n    layer_range: [0, 3]\nmerge_method: passthrough\n`)
    const marker = join(tmp, 'mergekit-ran')
    const mergekit = fakeMergekit('records-run', `touch "${marker}"`)
    const out = join(tmp, 'linked-out')
    await rejectsWith(() => drain(mergeModelIter({config: yaml, out, engine: 'mergekit', mergekitPath: mergekit, outShardSize: 5e9})), 'merge', /tokenizer\.json: is a link to .*secret, outside the model folder/)
    assert.ok(!existsSync(marker), 'mergekit must not have been started')
    assert.ok(!existsSync(out))
  })
})
