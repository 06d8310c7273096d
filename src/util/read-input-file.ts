import {constants} from 'node:fs'
import {open} from 'node:fs/promises'
import {fsReason} from './fs-error.js'

/**
 * Reads a small input file a stranger may have made (a YAML config, config.json, an index): it must
 * be a regular file (a FIFO or a device would block or never end), at most `maxBytes`, and with
 * `utf8` valid UTF-8 (mergekit's and Python's readers refuse invalid bytes too). Every failure is
 * `fail(reason)`, which throws the caller's typed error naming the file.
 */
export async function readInputFile(path: string, params: {maxBytes: number; fail: (reason: string) => never}): Promise<Uint8Array> {
  const {fail} = params
  let handle
  try {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise block forever before fstat.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    return fail(fsReason(error))
  }
  try {
    const stat = await handle.stat()
    if (stat.isDirectory()) {
      return fail('is a folder, not a file (EISDIR)')
    }
    if (!stat.isFile()) {
      return fail('not a regular file (a FIFO, socket or device cannot be read as one)')
    }
    if (stat.size > params.maxBytes) {
      return fail(`is ${stat.size} bytes: more than the ${params.maxBytes} dlec reads for this kind of file`)
    }
    const bytes = new Uint8Array(stat.size)
    let at = 0
    while (at < bytes.length) {
      const {bytesRead} = await handle.read(bytes, at, bytes.length - at, at)
      if (bytesRead === 0) {
        break
      }
      at += bytesRead
    }
    return bytes.subarray(0, at)
  } catch (error) {
    return fail(fsReason(error))
  } finally {
    await handle.close()
  }
}

/** Decodes UTF-8, refusing invalid bytes; `fail` names the file. A leading BOM is dropped. */
export function decodeUtf8(bytes: Uint8Array, fail: (reason: string) => never): string {
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    return fail('is not valid UTF-8 text')
  }
}
