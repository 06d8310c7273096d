/** Progress of a merge, from either engine; the CLI renders these (cli/render/merge-progress.ts). */
export type MergeEvent =
  | {type: 'start'; engine: 'native'; totalBytes: number; tensors: number; shards: number}
  | {type: 'start'; engine: 'mergekit'; command: string[]}
  /** Native engine: bytes written so far. */
  | {type: 'progress'; bytesDone: number; totalBytes: number; tensor: string}
  /** mergekit: one of its tqdm bars (e.g. "Executing graph") advanced. */
  | {type: 'stage'; stage: string; done: number; total: number}
  | {type: 'done'; out: string; bytes: number; files: string[]}
