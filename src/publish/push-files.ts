import {lstat, readdir, readFile, realpath, stat} from 'node:fs/promises'
import {join, relative, sep} from 'node:path'
import {ModelError} from '../errors.js'
import {inspectModel} from '../model/inspect-model.js'

/** One file of a folder to push. */
export interface PushFile {
  /** Path in the repo (forward slashes). */
  path: string
  /** Path on disk (the real path of a symlink). */
  file: string
  bytes: number
}

/** Files above this size are not scanned for the token (weights; the token is scanned for in every other file). */
const TOKEN_SCAN_MAX_BYTES = 64 * 1024 * 1024
/** Deepest folder nesting pushed. */
const MAX_DEPTH = 8
/** Layer index of a decoder tensor name (`model.layers.3.`, `transformer.h.3.`). */
const LAYER_OF = /(?:^|\.)(?:layers|h|blocks)\.(\d+)\./

/**
 * The files of a model folder that `dlec push` uploads, after the checks that refuse a push up
 * front: the folder holds safetensors, its config.json agrees with them (every tensor the
 * architecture needs for `num_hidden_layers` layers, and none for layers beyond), no file is a
 * symlink leading out of the folder, and no file but the weights contains `token`. Hidden files
 * and folders (`.git`, `.cache`) and `*.incomplete` downloads are left out.
 */
export async function collectPushFiles(params: {dir: string; token?: string}): Promise<PushFile[]> {
  const {dir} = params
  const info = await stat(dir).catch(() => undefined)
  if (!info?.isDirectory()) {
    throw new ModelError(`${dir}: not a folder (push takes a model folder, e.g. the OUT of dlec merge)`, 'DLEC_PUSH_INPUT')
  }
  const root = await realpath(dir)
  const files: PushFile[] = []
  await walk(root, root, 0, files)
  files.sort((a, b) => a.path.localeCompare(b.path))
  if (!files.some((f) => f.path.endsWith('.safetensors'))) {
    throw new ModelError(`${dir}: no .safetensors files to push (dlec pushes merged safetensors models)`, 'DLEC_PUSH_INPUT')
  }
  await checkConfigAgrees(dir)
  if (params.token !== undefined && params.token.length > 0) {
    for (const f of files) {
      if (!f.path.endsWith('.safetensors') && f.bytes <= TOKEN_SCAN_MAX_BYTES && (await readFile(f.file)).includes(params.token)) {
        throw new ModelError(`${join(dir, f.path)}: contains your Hub token; refusing to publish it`, 'DLEC_PUSH_SECRET')
      }
    }
  }
  return files
}

async function walk(root: string, folder: string, depth: number, out: PushFile[]): Promise<void> {
  for (const entry of await readdir(folder, {withFileTypes: true})) {
    const name = entry.name
    if (name.startsWith('.') || name.endsWith('.incomplete')) {
      continue
    }
    const full = join(folder, name)
    const path = relative(root, full).split(sep).join('/')
    let file = full
    if ((await lstat(full)).isSymbolicLink()) {
      file = await realpath(full).catch(() => '')
      if (file === '' || (file !== root && !file.startsWith(root + sep))) {
        throw new ModelError(`${full}: a symlink that leads out of the folder; copy the file in to push it`, 'DLEC_PUSH_INPUT')
      }
    }
    const info = await stat(file)
    if (info.isDirectory()) {
      if (depth + 1 >= MAX_DEPTH) {
        throw new ModelError(`${full}: folders nested deeper than ${MAX_DEPTH}`, 'DLEC_PUSH_INPUT')
      }
      await walk(root, full, depth + 1, out)
    } else if (info.isFile()) {
      out.push({path, file, bytes: info.size})
    } else {
      throw new ModelError(`${full}: not a regular file`, 'DLEC_PUSH_INPUT')
    }
  }
}

async function checkConfigAgrees(dir: string): Promise<void> {
  const model = await inspectModel({dir})
  let highest = -1
  let at = ''
  for (const name of model.shapes.keys()) {
    const layer = Number(LAYER_OF.exec(name)?.[1] ?? -1)
    if (layer > highest) {
      highest = layer
      at = name
    }
  }
  if (highest >= model.numLayers) {
    throw new ModelError(
      `${join(dir, 'config.json')}: says ${model.numLayers} layers but the safetensors hold layer ${highest} (${at}); config.json and the weights disagree`,
      'DLEC_PUSH_INPUT',
    )
  }
}
