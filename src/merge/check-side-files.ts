import {realpath, stat} from 'node:fs/promises'
import {dirname, join, sep} from 'node:path'
import {MergeError} from '../errors.js'
import {fsReason} from '../util/fs-error.js'

/**
 * The real paths of the donor's side files (tokenizer, generation config) that a merge copies
 * into OUT, refusing any that is not a regular file inside the model: a symlink to /etc/passwd or
 * to a token file would otherwise land in the folder the user publishes, and a FIFO would block
 * the copy forever. "Inside" is the model folder's real path, or for a Hugging Face cache snapshot
 * (`revision` known) its repo folder, whose `blobs/` the snapshot's symlinks point into.
 */
export async function checkSideFiles(params: {dir: string; names: string[]; hubSnapshot: boolean}): Promise<Map<string, string>> {
  const {dir} = params
  const realDir = await realpath(dir)
  const root = params.hubSnapshot ? dirname(dirname(realDir)) : realDir
  const out = new Map<string, string>()
  for (const name of params.names) {
    const file = join(dir, name)
    let real: string
    try {
      real = await realpath(file)
    } catch (error) {
      throw new MergeError(`${file}: cannot read this side file (${fsReason(error)})`, 'DLEC_MERGE_SIDE_FILE')
    }
    if (!real.startsWith(root + sep)) {
      throw new MergeError(`${file}: is a link to ${real}, outside the model folder ${root}; refusing to copy it into the merged model`, 'DLEC_MERGE_SIDE_FILE')
    }
    const info = await stat(real)
    if (!info.isFile()) {
      throw new MergeError(`${file}: not a regular file (${info.isDirectory() ? 'a folder' : 'a FIFO, socket or device'}); refusing to copy it into the merged model`, 'DLEC_MERGE_SIDE_FILE')
    }
    out.set(name, real)
  }
  return out
}
