import {openAsBlob} from 'node:fs'
import {type CommitOperation, commitIter, createBranch, createRepo, HubApiError} from '@huggingface/hub'
import {HubError, UsageError} from '../errors.js'
import {isHubModelId} from '../model/hf-cache.js'
import {toHubError} from '../hub/hub-error.js'
import {hubFetch} from '../hub/hub-fetch.js'
import {collectPushFiles, type PushFile} from './push-files.js'

export const HUB_URL = 'https://huggingface.co'

export interface PushParams {
  /** The model folder (e.g. dlec merge's OUT). */
  dir: string
  /** `org/name`. */
  repo: string
  accessToken?: string
  /** Visibility of a repo that push creates (an existing repo keeps its own). */
  private?: boolean
  /** Commit title. */
  message?: string
  /** Branch to commit to (default main); created from main when missing. */
  revision?: string
  hubUrl?: string
  fetch?: typeof fetch
  /** Connect and idle timeout of every Hub request. */
  timeoutMs?: number
  signal?: AbortSignal
  /** Extra files of the same commit that are not in `dir` (e.g. a card and its images), by repo path. */
  extraFiles?: ReadonlyArray<{path: string; content: Blob}>
  /** Clock, for the rate and ETA. */
  now?: () => number
}

export type PushPhase = 'creating-repo' | 'preuploading' | 'hashing' | 'uploading' | 'committing'

export type PushEvent =
  | {type: 'start'; repo: string; files: number; totalBytes: number}
  | {type: 'phase'; phase: PushPhase}
  | {type: 'progress'; bytesDone: number; totalBytes: number; bytesPerSecond: number; etaSeconds: number | undefined}

export interface PushReport {
  repo: string
  revision: string
  /** The commit the push made. */
  commit: string
  url: string
  /** True when the repo did not exist and push created it. */
  created: boolean
  files: Array<{path: string; bytes: number}>
  totalBytes: number
  seconds: number
}

/** A commit id as the Hub gives it. */
const COMMIT_ID = /^[0-9a-f]{40}$/
/** Branch names dlec pushes to: git ref characters, no `..`, no leading `-` or `/`. */
const BRANCH = /^(?!.*\.\.)(?![-/.])[A-Za-z0-9._/-]{1,200}(?<![/.])$/
/** Least time between two progress events. */
const PROGRESS_EVERY_MS = 100

/**
 * Uploads a model folder to the Hub as one commit, creating the repo (and the branch) when missing:
 * small files inline, safetensors and other large files through LFS (@huggingface/hub's commit,
 * without Xet). Refuses up front, before any request: a bad repo id, no token, a folder without
 * safetensors or whose config.json disagrees with them, a file that contains the token. Yields
 * phases and byte progress with rate and ETA; returns what was committed. The token appears in no
 * event, report or error.
 */
export async function* pushModelIter(params: PushParams): AsyncGenerator<PushEvent, PushReport> {
  checkPushParams(params)
  const {repo, accessToken} = params as PushParams & {accessToken: string}
  const revision = params.revision ?? 'main'
  const secrets = [accessToken]
  const local = await collectPushFiles({dir: params.dir, token: accessToken})
  const extra = params.extraFiles ?? []
  const extraPaths = new Set(extra.map((f) => f.path))
  const files: Array<PushFile | {path: string; content: Blob; bytes: number}> = [
    ...local.filter((f) => !extraPaths.has(f.path)),
    ...extra.map((f) => ({path: f.path, content: f.content, bytes: f.content.size})),
  ]
  const totalBytes = files.reduce((a, f) => a + f.bytes, 0)
  const now = params.now ?? Date.now
  const started = now()
  const hubUrl = params.hubUrl ?? HUB_URL
  let sent = 0
  const access = {
    hubUrl,
    accessToken,
    fetch: hubFetch({fetch: params.fetch, timeoutMs: params.timeoutMs, signal: params.signal, secrets, onBytesSent: (n) => (sent += n)}),
  }
  const progress = (bytesDone: number): PushEvent => {
    const seconds = Math.max(1e-3, (now() - started) / 1000)
    const bytesPerSecond = bytesDone / seconds
    return {type: 'progress', bytesDone, totalBytes, bytesPerSecond, etaSeconds: bytesPerSecond > 0 ? (totalBytes - bytesDone) / bytesPerSecond : undefined}
  }
  yield {type: 'start', repo, files: files.length, totalBytes}
  yield {type: 'phase', phase: 'creating-repo'}
  let created = false
  try {
    created = await ensureRepo({...access, repo, private: params.private})
    if (revision !== 'main') {
      await ensureBranch({...access, repo, branch: revision})
    }
  } catch (error) {
    throw toHubError(error, `${repo}: cannot create the repo`, secrets)
  }
  const operations: CommitOperation[] = await Promise.all(
    files.map(async (f) => ({operation: 'addOrUpdate' as const, path: f.path, content: 'content' in f ? f.content : await openAsBlob(f.file)})),
  )
  let commit: string | undefined
  try {
    const it = commitIter({
      ...access,
      repo: {type: 'model', name: repo},
      operations,
      title: params.message ?? `Upload ${repo.split('/')[1]} with dlec`,
      branch: revision,
      useXet: false,
      abortSignal: params.signal,
    })
    let phase: PushPhase | undefined
    let last = 0
    for (;;) {
      const next = await it.next()
      if (next.done) {
        commit = next.value?.commit.oid
        break
      }
      const event = next.value
      const now_ = now()
      let at: PushPhase | undefined
      if (event.event === 'phase') {
        at = event.phase === 'preuploading' ? 'preuploading' : event.phase === 'committing' ? 'committing' : 'uploading'
      } else if (event.event === 'fileProgress') {
        at = event.state === 'hashing' ? 'hashing' : phase === 'committing' ? 'committing' : 'uploading'
      }
      if (at !== undefined && at !== phase) {
        phase = at
        yield {type: 'phase', phase}
      }
      if (event.event === 'fileProgress' && event.state === 'uploading' && now_ - last >= PROGRESS_EVERY_MS) {
        last = now_
        yield progress(Math.min(sent, totalBytes))
      }
    }
  } catch (error) {
    throw toHubError(error, `${repo}: push failed, nothing was committed`, secrets)
  }
  if (commit === undefined || !COMMIT_ID.test(commit)) {
    throw new HubError(`${repo}: the Hub answered the commit without a valid commit id`, 'DLEC_HUB_ANSWER')
  }
  yield progress(totalBytes)
  return {
    repo,
    revision,
    commit,
    url: `${hubUrl.replace(/\/+$/, '')}/${repo}${revision === 'main' ? '' : `/tree/${encodeURIComponent(revision)}`}`,
    created,
    files: files.map((f) => ({path: f.path, bytes: f.bytes})),
    totalBytes,
    seconds: (now() - started) / 1000,
  }
}

/**
 * The checks of a push that need no file and no request (a bad repo id or branch, no token, a
 * token that is not a Hugging Face token): run first by pushModelIter, and by `dlec expand --push`
 * before its long work.
 */
export function checkPushParams(params: Pick<PushParams, 'repo' | 'revision' | 'accessToken'>): void {
  const {repo, accessToken} = params
  if (!repo.includes('/') || !isHubModelId(repo)) {
    throw new UsageError(`--repo ${JSON.stringify(repo)}: not a Hub repo id of the form org/name`)
  }
  const revision = params.revision ?? 'main'
  if (!BRANCH.test(revision)) {
    throw new UsageError(`--revision ${JSON.stringify(revision)}: not a branch name`)
  }
  if (accessToken === undefined || accessToken === '') {
    throw new HubError('no Hub token: pass --token, set HF_TOKEN, or log in with `hf auth login`', 'DLEC_HUB_NO_TOKEN')
  }
  if (!accessToken.startsWith('hf_')) {
    throw new HubError('the Hub token does not start with hf_ (a Hugging Face user access token does)', 'DLEC_HUB_AUTH')
  }
}

/** pushModelIter drained. */
export async function pushModel(params: PushParams): Promise<PushReport> {
  const it = pushModelIter(params)
  for (;;) {
    const next = await it.next()
    if (next.done) {
      return next.value
    }
  }
}

async function ensureRepo(params: {repo: string; private?: boolean; hubUrl: string; accessToken: string; fetch: typeof fetch}): Promise<boolean> {
  try {
    await createRepo({repo: {type: 'model', name: params.repo}, private: params.private, hubUrl: params.hubUrl, accessToken: params.accessToken, fetch: params.fetch})
    return true
  } catch (error) {
    if (error instanceof HubApiError && error.statusCode === 409) {
      return false
    }
    throw error
  }
}

async function ensureBranch(params: {repo: string; branch: string; hubUrl: string; accessToken: string; fetch: typeof fetch}): Promise<void> {
  try {
    await createBranch({repo: {type: 'model', name: params.repo}, branch: params.branch, hubUrl: params.hubUrl, accessToken: params.accessToken, fetch: params.fetch})
  } catch (error) {
    if (error instanceof HubApiError && error.statusCode === 409) {
      return
    }
    throw error
  }
}
