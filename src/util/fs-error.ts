/** The errno codes dlec explains in words; anything else keeps Node's own message. */
const REASONS: Record<string, string> = {
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for this filesystem or the file-size limit (ulimit -f)',
  EROFS: 'read-only file system',
  EEXIST: 'already exists',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error',
  EXDEV: 'crosses filesystems',
  ENOTEMPTY: 'folder not empty',
  EBUSY: 'resource busy',
}

/** The errno code of a Node filesystem error, if it is one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** A short reason for a filesystem error: "no space left on the device (ENOSPC)". */
export function fsReason(error: unknown): string {
  const code = errnoCode(error)
  if (code === 'ENOENT') {
    return 'no such file'
  }
  if (code !== undefined && REASONS[code] !== undefined) {
    return `${REASONS[code]} (${code})`
  }
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] ?? message
}

/** True when the error is the disk or the file-size limit running out (the message should say so). */
export function isOutOfSpace(error: unknown): boolean {
  const code = errnoCode(error)
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG'
}
