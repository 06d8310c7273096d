import {execFileSync} from 'node:child_process'
import {python} from './cli.js'

/**
 * Reads PNG pixels with Pillow (an independent decoder in the test venv): the image size, how many
 * distinct colours it has, and the mean RGB of each requested box [x0, y0, x1, y1) with its
 * luminance spread (max - min of 0.299 R + 0.587 G + 0.114 B).
 */
export interface PngBoxStats {
  mean: [number, number, number]
  spread: number
}

export interface PngStats {
  width: number
  height: number
  mode: string
  colors: number
  boxes: PngBoxStats[]
}

export function pngStats(path: string, boxes: ReadonlyArray<readonly [number, number, number, number]> = []): PngStats {
  const script = [
    'import json, sys',
    'from PIL import Image',
    'im = Image.open(sys.argv[1]); im.load()',
    'rgb = im.convert("RGB")',
    'boxes = json.loads(sys.argv[2])',
    'out = []',
    'for x0, y0, x1, y1 in boxes:',
    '    px = [rgb.getpixel((x, y)) for y in range(int(y0), int(y1)) for x in range(int(x0), int(x1))]',
    '    lum = [0.299 * r + 0.587 * g + 0.114 * b for r, g, b in px]',
    '    out.append({"mean": [sum(p[i] for p in px) / len(px) for i in range(3)], "spread": max(lum) - min(lum)})',
    'colors = rgb.getcolors(1 << 24)',
    'print(json.dumps({"width": im.width, "height": im.height, "mode": im.mode, "colors": len(colors), "boxes": out}))',
  ].join('\n')
  return JSON.parse(execFileSync(python(), ['-c', script, path, JSON.stringify(boxes)]).toString()) as PngStats
}

export function luminance([r, g, b]: readonly [number, number, number]): number {
  return 0.299 * r + 0.587 * g + 0.114 * b
}
