import type {PushEvent, PushReport} from '../../publish/push-model.js'
import {formatBytes} from './format-bytes.js'
import type {ProgressUpdate} from './progress.js'

/** Push progress in the one progress view: a bar over the bytes uploaded (phases are not printed: a failure stays one line). */
export function renderPushEvent(event: PushEvent): ProgressUpdate | undefined {
  switch (event.type) {
    case 'start':
      return {kind: 'bar', task: 'upload', done: 0, total: event.totalBytes, unit: 'bytes'}
    case 'phase':
      return undefined
    case 'progress':
      return {kind: 'bar', task: 'upload', done: event.bytesDone, total: event.totalBytes, unit: 'bytes'}
  }
}

/** The lines `dlec push` prints when done. */
export function renderPushReport(report: PushReport): string[] {
  return [
    `${report.created ? 'Created' : 'Updated'} ${report.repo} (${report.revision}): commit ${report.commit}`,
    `${report.files.length} files, ${formatBytes(report.totalBytes)} in ${report.seconds.toFixed(1)} s`,
    report.url,
  ]
}
