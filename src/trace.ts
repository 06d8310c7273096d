import createDebug from 'debug'

/**
 * Diagnostics, off unless DEBUG names them (`DEBUG=dlec:*`). `dlec:io` logs every read of a model's
 * config.json and of a safetensors header, so the number of reads a command makes can be counted.
 */
export const traceIo = createDebug('dlec:io')

/** `dlec:events` logs the type of every event a command's pipeline yields (see DlecCommand.consume). */
export const traceEvents = createDebug('dlec:events')
