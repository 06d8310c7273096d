import {realpath} from 'node:fs/promises'
import {basename, dirname, sep} from 'node:path'
import {ModelError, SafetensorsParseError} from '../errors.js'

/**
 * The folder that files of a model folder may really live in once symlinks are resolved: the
 * folder itself, or, for a Hugging Face cache snapshot (`models--org--name/snapshots/<rev>/`,
 * whose files are symlinks into `../../blobs/`), that repo's `models--org--name` folder.
 */
export async function modelRealRoot(dir: string): Promise<string> {
  let real: string
  try {
    real = await realpath(dir)
  } catch {
    throw new ModelError(`${dir}: model folder not found`)
  }
  const parent = dirname(real)
  const repo = dirname(parent)
  if (basename(parent) === 'snapshots' && basename(repo).startsWith('models--')) {
    return repo
  }
  return real
}

/**
 * The real path of `file` (symlinks resolved), which must lie inside `root`. `what` names the file
 * in errors (e.g. the index entry that points at it).
 */
export async function confinedRealPath(file: string, root: string, what: string): Promise<string> {
  let real: string
  try {
    real = await realpath(file)
  } catch {
    throw new SafetensorsParseError(`${what}: file ${file} not found`)
  }
  if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new SafetensorsParseError(`${what}: ${file} resolves to ${real}, outside the model folder ${root}`)
  }
  return real
}
