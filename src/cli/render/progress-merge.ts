import {SingleBar} from 'cli-progress'
import type {MergeEvent} from '../../merge/merge-event.js'
import {formatBytes} from './format-bytes.js'

/**
 * Draws merge progress on stderr: a bar over bytes with throughput and ETA for the native engine,
 * one bar per mergekit stage ("Executing graph") for mergekit. Silent when stderr is not a TTY
 * (cli-progress default) and never used in --json mode.
 */
export class MergeProgress {
  private bar?: SingleBar
  private stage?: string
  private started = 0

  handle(event: MergeEvent): void {
    switch (event.type) {
      case 'start':
        this.started = Date.now()
        if (event.engine === 'native') {
          this.open('{bar} {percentage}% | {done}/{size} | {speed} | ETA {eta_formatted}', event.totalBytes)
        }
        break
      case 'progress': {
        const seconds = Math.max(1e-3, (Date.now() - this.started) / 1000)
        this.bar?.update(event.bytesDone, {done: formatBytes(event.bytesDone), size: formatBytes(event.totalBytes), speed: `${formatBytes(event.bytesDone / seconds)}/s`})
        break
      }
      case 'stage':
        if (event.stage !== this.stage) {
          this.stop()
          this.stage = event.stage
          this.open(`${event.stage} {bar} {value}/{total} | ETA {eta_formatted}`, event.total)
        }
        this.bar?.update(event.done)
        break
      case 'done':
        this.stop()
        break
    }
  }

  stop(): void {
    this.bar?.stop()
    this.bar = undefined
  }

  private open(format: string, total: number): void {
    this.bar = new SingleBar({format, stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50})
    this.bar.start(total, 0, {done: formatBytes(0), size: formatBytes(total), speed: '-'})
  }
}
