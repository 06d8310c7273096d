import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {chartPng, parseColor} from '../../src/plot/chart-png.js'
import {chartSvg} from '../../src/plot/chart-svg.js'
import {layoutLineChart, niceTicks} from '../../src/plot/line-chart.js'
import {python} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dlec-plot-'))
const chart = layoutLineChart({
  title: 'Scores <test> & more',
  xLabel: 'layer',
  yLabel: 'score',
  x: [0, 1, 2, 3],
  series: [
    {name: 'a', values: [0.1, 0.4, null, 0.2], color: '#ff0000'},
    {name: 'b', values: [0.3, 0.3, 0.3, 0.3], color: '#0000ff'},
  ],
  marks: {x: [1], label: 'flag', color: '#00ff00'},
  width: 400,
  height: 300,
})

describe('plots', () => {
  it('picks nice ticks that cover the data', () => {
    assert.deepEqual(niceTicks(0, 0.398), [0, 0.1, 0.2, 0.3, 0.4])
    assert.deepEqual(niceTicks(0, 1.76), [0, 0.5, 1, 1.5, 2])
    assert.deepEqual(niceTicks(-3, 7, 5), [-4, -2, 0, 2, 4, 6, 8])
  })

  it('writes SVG that an XML parser reads, with escaped text and one polyline per unbroken run', () => {
    const svg = chartSvg(chart)
    const path = join(dir, 'c.svg')
    writeFileSync(path, svg)
    const script = [
      'import json, sys, xml.etree.ElementTree as ET',
      'ns = {"s": "http://www.w3.org/2000/svg"}',
      'root = ET.parse(sys.argv[1]).getroot()',
      'print(json.dumps({"texts": [t.text for t in root.findall("s:text", ns)], "polylines": [(p.get("stroke"), len(p.get("points").split())) for p in root.findall("s:polyline", ns)]}))',
    ].join('\n')
    const parsed = JSON.parse(execFileSync(python(), ['-c', script, path]).toString()) as {texts: string[]; polylines: Array<[string, number]>}
    assert.equal(parsed.texts[0], 'Scores <test> & more')
    assert.ok(parsed.texts.includes('flag'))
    assert.deepEqual(parsed.polylines, [['#ff0000', 2], ['#0000ff', 4]], 'series a breaks at its null')
  })

  it('writes a PNG that Python decodes, with the series colours where the layout puts them', () => {
    const png = chartPng(chart)
    const path = join(dir, 'c.png')
    writeFileSync(path, png)
    const circle = chart.shapes.find((s) => s.kind === 'circle' && s.color === '#0000ff')
    assert.ok(circle !== undefined && circle.kind === 'circle')
    const script = [
      'import json, struct, sys, zlib',
      'data = open(sys.argv[1], "rb").read()',
      'assert data[:8] == b"\\x89PNG\\r\\n\\x1a\\n"',
      'pos, chunks = 8, {}',
      'while pos < len(data):',
      '    n, kind = struct.unpack(">I4s", data[pos:pos + 8])',
      '    body = data[pos + 8:pos + 8 + n]',
      '    assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]',
      '    chunks[kind] = chunks.get(kind, b"") + body',
      '    pos += 12 + n',
      'w, h, depth, ctype = struct.unpack(">IIBB", chunks[b"IHDR"][:10])',
      'raw = zlib.decompress(chunks[b"IDAT"])',
      'x, y = int(sys.argv[2]), int(sys.argv[3])',
      'row = raw[y * (w * 4 + 1):(y + 1) * (w * 4 + 1)]',
      'assert row[0] == 0',
      'print(json.dumps({"w": w, "h": h, "depth": depth, "ctype": ctype, "center": list(row[1 + 4 * x:5 + 4 * x]), "corner": list(raw[1:5])}))',
    ].join('\n')
    const out = JSON.parse(execFileSync(python(), ['-c', script, path, String(Math.round(circle.cx)), String(Math.round(circle.cy))]).toString()) as Record<string, unknown>
    assert.deepEqual(out, {w: 400, h: 300, depth: 8, ctype: 6, center: [0, 0, 255, 255], corner: [255, 255, 255, 255]})
    assert.deepEqual(parseColor('#ff7f0e80'), [255, 127, 14, 128])
    assert.deepEqual(parseColor('#abc'), [170, 187, 204, 255])
  })
})
