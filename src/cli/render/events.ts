import type {CurveEvent} from '../../curve/expansion-curve.js'
import type {EvaluateEvent} from '../../eval/evaluate.js'
import type {MergeEvent} from '../../merge/merge-event.js'
import type {DownloadEvent} from '../../model/download-model.js'
import type {OpenDecoderEvent} from '../../onnx/open-decoder.js'
import type {ProfileEvent} from '../../profile/profile-model.js'
import {formatBytes} from './format-bytes.js'
import type {ProgressUpdate} from './progress.js'

/** A stage of a multi-step command (expand: plan, merge, check). */
export interface PhaseEvent {
  type: 'phase'
  phase: string
}

/** Every event a pipeline generator yields. */
export type PipelineEvent = OpenDecoderEvent | EvaluateEvent | CurveEvent | MergeEvent | ProfileEvent | DownloadEvent | PhaseEvent

/**
 * The one mapping from pipeline events to the progress view: a bar with total, rate and ETA for
 * converting weights, evaluating, measuring candidates, merging, profiling and downloading; a note
 * for a stage starting, a run starting and a device chosen by `--device auto` / `cuda`.
 */
export function renderEvent(e: PipelineEvent): ProgressUpdate | ProgressUpdate[] | undefined {
  switch (e.type) {
    case 'phase':
      return [{kind: 'end', task: 'measure'}, {kind: 'note', text: `== ${e.phase}`}]
    case 'device':
      return e.choice === 'cpu' ? undefined : {kind: 'note', text: `device: ${e.reason}`}
    case 'convert':
      return {kind: 'bar', task: 'convert weights', done: e.done, total: e.total, unit: 'tensors'}
    case 'check':
      return {kind: 'bar', task: 'check weights', done: e.done, total: e.total, unit: 'tensors'}
    case 'eval':
      return {kind: 'bar', task: 'evaluate', done: e.done, total: e.total, unit: 'rows'}
    case 'evaluated':
      return {kind: 'bar', task: 'measure', done: e.evaluations, total: Math.max(e.planned, e.evaluations), unit: 'candidates'}
    case 'point':
      return undefined
    case 'raced':
      return {kind: 'note', text: `${e.strategy} +${e.added}: racing measured ${e.survivors} of ${e.candidates} candidates on all rows (${e.dropped} clearly worse on part of them)`}
    case 'batch':
      return {kind: 'bar', task: 'profile', done: e.done, total: e.total, unit: 'samples'}
    case 'download-start':
      return {kind: 'note', text: `downloading ${e.repo}@${e.revision} (${e.commit.slice(0, 12)}): ${e.files} files, ${formatBytes(e.totalBytes - e.cachedBytes)} to fetch${e.cachedBytes > 0 ? `, ${formatBytes(e.cachedBytes)} in the cache` : ''}`}
    case 'download-progress':
      return {kind: 'bar', task: 'download', done: e.bytesDone, total: e.totalBytes, unit: 'bytes'}
    case 'download-file':
      return {kind: 'note', text: `downloaded ${e.path} (${formatBytes(e.bytes)}${e.resumedFrom > 0 ? `, resumed at ${formatBytes(e.resumedFrom)}` : ''})`}
    case 'download-done':
      return [{kind: 'end', task: 'download'}, {kind: 'note', text: `downloaded ${e.repo} in ${e.seconds.toFixed(1)} s (${formatBytes(e.bytes / Math.max(e.seconds, 1e-3))}/s)`}]
    case 'start':
      if ('runId' in e) {
        return {kind: 'note', text: `${e.resumed ? 'resuming' : 'profiling'} run ${e.name} (id ${e.runId}): ${e.samples} samples${e.done > 0 ? `, ${e.done} already stored` : ''}`}
      }
      return e.engine === 'native' ? {kind: 'bar', task: 'merge', done: 0, total: e.totalBytes, unit: 'bytes'} : {kind: 'note', text: `running ${e.command.join(' ')}`}
    case 'progress':
      return {kind: 'bar', task: 'merge', done: e.bytesDone, total: e.totalBytes, unit: 'bytes'}
    case 'stage':
      return {kind: 'bar', task: `mergekit: ${e.stage}`, done: e.done, total: e.total, unit: 'steps'}
    case 'done':
      return [{kind: 'end', task: 'merge'}]
  }
}
