import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {blockHeatmap, curveChart} from '../../src/curve/curve-charts.js'
import {chartPng} from '../../src/plot/chart-png.js'
import {chartSvg} from '../../src/plot/chart-svg.js'
import type {CurvePoint} from '../../src/scoring/expansion-curve.js'

const point = (strategy: CurvePoint['strategy'], added: number, kl: number): CurvePoint => ({
  strategy,
  added,
  kl,
  duplications: [],
  layers: [],
  params: 100 + 10 * added,
  measured: true,
  loss: 1,
  lossDelta: kl / 2,
  top1: 0.9,
})

describe('curve charts', () => {
  it('one line per strategy over the parameter counts, starting at the original (KL 0)', () => {
    const layout = curveChart({baseParams: 100, points: [point('greedy', 1, 0.1), point('greedy', 2, 0.3), point('curve', 1, 0.2)]})
    const svg = chartSvg(layout)
    assert.match(svg, /^<svg/)
    const lines = layout.shapes.filter((s) => s.kind === 'polyline')
    assert.equal(lines.length, 2)
    assert.ok(layout.shapes.some((s) => s.kind === 'text' && s.text === 'greedy'))
    assert.ok(layout.shapes.some((s) => s.kind === 'text' && s.text === 'curve'))
  })

  it('heat-map: one filled cell per measured block [i, j), darker for larger KL, lowest still visible', () => {
    const blocks = [
      {start: 0, end: 1, kl: 0.1, lossDelta: 0, top1: 1},
      {start: 1, end: 3, kl: 0.5, lossDelta: 0, top1: 1},
    ]
    const layout = blockHeatmap({blocks, numLayers: 4})
    const fills = layout.shapes.filter((s) => s.kind === 'line' && s.width === 2 && s.color !== '#dddddd').map((s) => (s.kind === 'line' ? s.color : ''))
    assert.ok(fills.includes('#fde0dd'), 'lowest value: pale, not white')
    assert.ok(fills.includes('#a50f15'), 'highest value: dark red')
    assert.ok(!fills.some((c) => /NaN/.test(c)))
    const png = chartPng(layout)
    assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47])
  })
})
