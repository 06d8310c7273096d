import {describe, it, before} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {ROOT} from '../helpers/cli.js'
import {CLONE, drift, normalise, parseReadme, render, runExamples, shown, type Example} from '../../scripts/readme-examples.js'

const README = readFileSync(`${ROOT}README.md`, 'utf8')
let examples: Example[]
let outputs: string[][]

const find = (re: RegExp): number => {
  const i = examples.findIndex((e) => re.test(e.command))
  assert.ok(i >= 0, `no README example matching ${re}`)
  return i
}

describe('README examples (scripts/readme-examples.ts)', () => {
  before(() => {
    examples = parseReadme(README)
    outputs = runExamples(examples, ROOT)
  })

  it('every example prints what the README shows (run from a fresh scratch clone, timings aside)', () => {
    assert.ok(examples.length >= 15, `${examples.length} examples found`)
    const problems = drift(examples, outputs)
    assert.deepEqual(problems, [], `README examples drifted; regenerate with \`npx tsx scripts/readme-examples.ts\`:\n${problems.join('\n')}`)
  })

  it('merge --dry-run and config layers --model show the plan that the plan example writes', () => {
    const plan = outputs[find(/^dlec plan fixtures\/stories260K --target-params .* --out plan\.yaml$/)]?.join('\n') ?? ''
    const layers = /^layers +(\d+) \(was (\d+)\)/m.exec(plan)
    assert.ok(layers, plan)
    const dry = outputs[find(/^dlec merge plan\.yaml merged\/ --dry-run/)]?.join('\n') ?? ''
    assert.match(dry, new RegExp(`^Plan: ${layers[1]} layers,`, 'm'))
    const config = outputs[find(/^dlec config layers plan\.yaml --model/)]?.join('\n') ?? ''
    assert.match(config, new RegExp(`depth ${layers[2]} -> ${layers[1]} \\(num_hidden_layers\\)`))
    const yaml = outputs[find(/^cat plan\.yaml/)] ?? []
    const ranges = yaml.filter((l) => l.includes('layer_range')).map((l) => /\[(\d+), (\d+)\]/.exec(l)?.slice(1).map(Number) ?? [])
    assert.equal(ranges.reduce((n, [a = 0, b = 0]) => n + b - a, 0), Number(layers[1]), yaml.join('\n'))
  })

  it('no example shows an absolute path of the machine it ran on', () => {
    for (const e of examples) {
      for (const line of [e.command, ...e.expected]) {
        assert.doesNotMatch(line.split(CLONE).join(''), /(^|[\s'"[(:=])\/(work|home|root|tmp|Users|private|var|opt|mnt)\//, `README.md:${e.line + 1}: ${line}`)
      }
    }
  })

  it('the check fails on a changed number or a missing line, and not on a timing', () => {
    const i = find(/^dlec eval /)
    const e = examples[i] as Example
    const k = e.expected.findIndex((l) => /\d\.\d{3}/.test(l))
    const changed = e.expected.map((l, j) => (j === k ? l.replace(/(\d)\.(\d)/, (_m, a: string, b: string) => `${a}.${(Number(b) + 1) % 10}`) : l))
    const with_ = (expected: string[]): Example[] => examples.map((x, j) => (j === i ? {...x, expected} : x))
    const about = (problems: string[], example: Example): string[] => problems.filter((m) => m.startsWith(`README.md:${example.line + 1}: `))
    assert.equal(about(drift(examples, outputs), e).length, 0)
    assert.match(about(drift(with_(changed), outputs), e).join('\n'), /`dlec eval .*` output line \d+:\n {2}README: /)
    assert.equal(about(drift(with_(e.expected.slice(0, -1)), outputs), e).length, 1)
    const p = find(/^dlec profile /)
    const timed = examples.map((x, j) => (j === p ? {...x, expected: x.expected.map((l) => l.replace(/time [\d.]+ s, \d+ tokens\/s/, 'time 9.99 s, 1 tokens/s'))} : x))
    assert.notDeepEqual(timed[p]?.expected, examples[p]?.expected, 'the profile example shows a timing')
    assert.deepEqual(about(drift(timed, outputs), examples[p] as Example), [])
    assert.equal(normalise('in 0.1 s, 19.38 MB/s'), 'in <n> s, <n> MB/s')
    assert.equal(normalise('in 1.3 s, 906.74 kB/s'), 'in <n> s, <n> MB/s', 'a rate in another unit is a timing too')
    assert.equal(normalise('121.1 tokens/s (prompt 5 tokens in 33 ms)'), '<n> tokens/s (prompt 5 tokens in <n> ms)')
  })

  it('regenerating keeps the README around the outputs, and an elided output keeps its head and tail', () => {
    const again = render(README, examples, outputs)
    assert.equal(again.split('\n').filter((l) => !l.startsWith('$ ')).length - README.split('\n').filter((l) => !l.startsWith('$ ')).length, 0)
    assert.deepEqual(drift(parseReadme(again), outputs), [])
    assert.deepEqual(shown(['a', '...', 'z'], ['a', 'b', 'c', 'z']), ['a', '...', 'z'])
    assert.deepEqual(shown(['a', '...', 'z'], ['a', 'z']), ['a', 'z'])
  })
})
