import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import {profileSessions} from '../../src/onnx/session.js'
import {GENERATED, STORIES} from '../helpers/cli.js'
import {FAMILIES} from '../helpers/families.js'
import {declaredShapes} from '../helpers/onnx-value-info.js'

// The graphs declare the shapes ONNX Runtime cannot infer, in symbols (graph-builder.ts shaped);
// its allocation planner trusts them to reuse buffers, so a wrong one would be a wrong answer, not
// just a slow one. Here every declared value's shape, as ONNX Runtime's profiler saw it at run time
// (padded batch of 2 through the full graph; a 3-token prompt and one cached step through the
// KV-cache graph), is checked against its declaration: numbers equal, and each symbol one size
// throughout a run, with rows = batch x seq and total = past + seq.

interface NodeEvent {cat?: string; name: string; ts: number; dur: number; args?: {output_type_shape?: Record<string, number[]>[]}}

function checkRun(nodes: NodeEvent[], declared: Map<string, (number | string)[]>, label: string): number {
  const bound = new Map<string, number>()
  let checked = 0
  for (const e of nodes) {
    const first = e.name.replace(/^n_/, '').replace(/_kernel_time$/, '')
    const shapes = e.args?.output_type_shape ?? []
    shapes.forEach((typed, i) => {
      const value = i === 0 ? first : first.replace(/_o0$/, `_o${i}`)
      const want = declared.get(value)
      const got = Object.values(typed)[0]
      if (want === undefined || got === undefined) {
        return
      }
      assert.equal(got.length, want.length, `${label}: ${value} has rank ${got.length}, declared [${want.join(', ')}]`)
      want.forEach((d, j) => {
        const actual = got[j] as number
        if (typeof d === 'number') {
          assert.equal(actual, d, `${label}: ${value} dim ${j} is ${actual}, declared ${d}`)
        } else {
          const known = bound.get(d)
          assert.ok(known === undefined || known === actual, `${label}: ${value} dim ${j} is ${actual}, but ${d} was ${known}`)
          bound.set(d, actual)
        }
      })
      checked++
    })
  }
  const b = bound.get('batch')
  const s = bound.get('seq')
  if (b !== undefined && s !== undefined && bound.has('rows')) {
    assert.equal(bound.get('rows'), b * s, `${label}: rows is batch x seq`)
  }
  return checked
}

describe('declared graph shapes equal the shapes at run time', () => {
  for (const family of ['stories', ...FAMILIES]) {
    it(family, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dlec-shapes-'))
      const cacheDir = join(dir, 'cache')
      profileSessions(join(dir, 'profile'))
      try {
        const decoder = await openDecoder({modelDir: family === 'stories' ? STORIES : join(GENERATED, family), cacheDir, threads: 1})
        try {
          await decoder.run({inputIds: [[1, 5, 9, 3, 7], [1, 4, 2]], outputs: {logits: 'all'}})
          const prompt = await decoder.decodeStep({inputIds: [[1, 5, 9]]})
          await decoder.decodeStep({inputIds: [[4]], past: prompt.present})
        } finally {
          await decoder.release()
        }
      } finally {
        profileSessions(undefined)
      }
      const declared = new Map<string, (number | string)[]>()
      const modelDirs = readdirSync(join(cacheDir, 'models'))
      for (const m of modelDirs) {
        for (const f of readdirSync(join(cacheDir, 'models', m)).filter((x) => x.endsWith('.onnx'))) {
          for (const [k, v] of declaredShapes(join(cacheDir, 'models', m, f))) {
            declared.set(k, v)
          }
        }
      }
      assert.ok(declared.size > 0, 'the graphs declare shapes')
      let checked = 0
      let runs = 0
      for (const file of readdirSync(dir).filter((f) => f.startsWith('profile') && f.endsWith('.json'))) {
        const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as NodeEvent[]
        for (const run of events.filter((e) => e.name === 'model_run')) {
          const inRun = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= run.ts && e.ts <= run.ts + run.dur)
          checked += checkRun(inRun, declared, `${family} ${file}`)
          runs++
        }
      }
      rmSync(dir, {recursive: true, force: true})
      assert.ok(runs >= 3, `three runs profiled (got ${runs})`)
      assert.ok(checked >= 10, `declared values checked at run time (got ${checked})`)
    })
  }
})
