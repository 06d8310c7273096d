import {createHash, randomBytes} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

/**
 * A local Hugging Face Hub on 127.0.0.1 for tests: the calls @huggingface/hub makes to upload
 * (repo creation, branch, preupload, LFS batch + object upload, NDJSON commit) and the ones
 * downloads make (model info, tree, resolve with HEAD and Range), both dlec's and huggingface_hub's
 * (`snapshot_download`). Writes need `Authorization: Bearer <token>`; a wrong one gets a 401 whose
 * body echoes the header, as some servers do. `fault` makes one route answer 500 or never answer;
 * `answer` rewrites a JSON answer (for crafted Hub answers). Repos start empty: the first commit
 * creates `main`.
 */
export type FakeHubRoute = 'create' | 'branch' | 'preupload' | 'lfs-batch' | 'lfs-upload' | 'commit' | 'info' | 'tree' | 'resolve'

export interface FakeCommit {
  oid: string
  parent?: string
  title: string
  files: Map<string, StoredFile>
}

export interface StoredFile {
  data: Buffer
  lfs: boolean
}

export interface FakeRepo {
  private: boolean
  branches: Map<string, string>
  commits: FakeCommit[]
}

export interface FakeRequest {
  method: string
  path: string
  route?: FakeHubRoute
  /** The Range header of a resolve request. */
  range?: string
}

/** Files above this size, and every *.safetensors, go through LFS (the Hub's default .gitattributes does the same for weights). */
const LFS_MIN_BYTES = 10 * 1024 * 1024

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
export const gitBlobOid = (b: Buffer): string => createHash('sha1').update(`blob ${b.byteLength}\0`).update(b).digest('hex')

export class FakeHub {
  readonly repos = new Map<string, FakeRepo>()
  readonly lfs = new Map<string, Buffer>()
  readonly requests: FakeRequest[] = []
  /**
   * One route misbehaving: `500`; `hang` (never answers); `stall` (a resolve GET sends its headers and
   * half the bytes, then nothing); `no-range` (a resolve ignores Range and sends the whole file with
   * 200); `corrupt` (a resolve flips the last byte it sends). `path` limits a resolve fault to one file.
   */
  fault?: {route: FakeHubRoute; kind: '500' | 'hang' | 'stall' | 'no-range' | 'corrupt'; path?: string}
  /**
   * A hostile Hub that plays along with its own crafted answers: any revision names main's commit,
   * and a GET no route matches (a URL the client normalised, e.g. `tree/../..`) gets the tree
   * listing, or the file its last segment names.
   */
  lenient = false
  answer?: (route: FakeHubRoute, body: unknown) => unknown
  /** Milliseconds every resolve GET waits before answering (to see downloads overlap). */
  resolveDelayMs = 0
  /** The most resolve GETs answered at once so far. */
  maxResolveInFlight = 0
  private resolveInFlight = 0
  url = ''
  private readonly server: Server

  constructor(readonly token: string) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: Error) => {
        if (!res.headersSent) {
          this.json(res, 500, {error: `fake hub: ${error.message}`})
        }
      })
    })
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((r) => this.server.close(() => r()))
  }

  /** Adds a repo holding `files` as one commit on main (a model "already on the Hub"). */
  seed(repoId: string, files: Record<string, Buffer>, options: {private?: boolean; oid?: string} = {}): FakeCommit {
    const repo: FakeRepo = {private: options.private ?? false, branches: new Map(), commits: []}
    this.repos.set(repoId, repo)
    const commit: FakeCommit = {oid: options.oid ?? randomBytes(20).toString('hex'), title: 'seed', files: new Map()}
    for (const [path, data] of Object.entries(files)) {
      commit.files.set(path, {data, lfs: isLfs(path, data.byteLength)})
    }
    repo.commits.push(commit)
    repo.branches.set('main', commit.oid)
    return commit
  }

  /** The commit a branch (or commit id) names. */
  commitAt(repoId: string, revision = 'main'): FakeCommit | undefined {
    const repo = this.repos.get(repoId)
    const oid = repo?.branches.get(revision) ?? revision
    const found = repo?.commits.find((c) => c.oid === oid)
    return found ?? (this.lenient ? repo?.commits.find((c) => c.oid === repo.branches.get('main')) : undefined)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const path = decodeURIComponent(url.pathname)
    const method = req.method ?? 'GET'
    const match = route(method, path) ?? (this.lenient ? this.lenientRoute(method, path) : undefined)
    this.requests.push({method, path, route: match?.route, ...(req.headers.range === undefined ? {} : {range: req.headers.range})})
    if (match === undefined) {
      return this.json(res, 404, {error: `fake hub: no route for ${method} ${path}`}, {'X-Error-Code': 'RepoNotFound'})
    }
    const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req)
    const faulty = this.fault?.route === match.route && (this.fault.path === undefined || path.endsWith(`/${this.fault.path}`))
    if (this.fault !== undefined && faulty && ['500', 'hang'].includes(this.fault.kind)) {
      if (this.fault.kind === 'hang') {
        return // never answer
      }
      return this.json(res, 500, {error: 'Internal Error - We are working on it'})
    }
    const writes = !['info', 'tree', 'resolve', 'lfs-upload'].includes(match.route)
    const auth = req.headers.authorization
    const authorized = auth === `Bearer ${this.token}`
    if ((writes || (match.repo !== undefined && this.repos.get(match.repo)?.private)) && !authorized) {
      return this.json(res, 401, {error: `Invalid credentials in Authorization header: ${auth ?? '(none)'}`})
    }
    switch (match.route) {
      case 'create':
        return this.create(res, JSON.parse(body.toString('utf8')) as {name: string; organization?: string; visibility?: string})
      case 'branch':
        return this.branch(res, match.repo ?? '', match.rest)
      case 'preupload': {
        const files = (JSON.parse(body.toString('utf8')) as {files: Array<{path: string; size: number}>}).files
        return this.reply(res, 'preupload', {files: files.map((f) => ({path: f.path, uploadMode: isLfs(f.path, f.size) ? 'lfs' : 'regular', shouldIgnore: false}))})
      }
      case 'lfs-batch':
        return this.lfsBatch(res, JSON.parse(body.toString('utf8')) as {objects: Array<{oid: string; size: number}>})
      case 'lfs-upload': {
        const oid = match.rest
        if (sha256(body) !== oid) {
          return this.json(res, 400, {error: 'sha256 mismatch'})
        }
        if (req.headers['content-length'] !== String(body.byteLength)) {
          return this.json(res, 411, {error: 'Content-Length required (object storage refuses chunked uploads)'})
        }
        this.lfs.set(oid, body)
        res.statusCode = 200
        res.setHeader('ETag', `"${oid}"`)
        res.end()
        return
      }
      case 'commit':
        return this.commit(res, match.repo ?? '', match.rest, body.toString('utf8'))
      case 'info':
        return this.info(res, match.repo ?? '', match.rest || 'main')
      case 'tree':
        return this.tree(res, match.repo ?? '', match.rest)
      case 'resolve': {
        if (method === 'GET') {
          this.resolveInFlight += 1
          this.maxResolveInFlight = Math.max(this.maxResolveInFlight, this.resolveInFlight)
          res.once('close', () => {
            this.resolveInFlight -= 1
          })
          if (this.resolveDelayMs > 0) {
            await new Promise((r) => setTimeout(r, this.resolveDelayMs))
          }
        }
        return this.resolve(req, res, match.repo ?? '', match.rest, faulty ? this.fault?.kind : undefined)
      }
    }
  }

  private lenientRoute(method: string, path: string): ReturnType<typeof route> {
    if (method !== 'GET' && method !== 'HEAD') {
      return undefined
    }
    const [repoId] = this.repos.keys()
    const last = path.split('/').at(-1) ?? ''
    const commit = repoId === undefined ? undefined : this.commitAt(repoId)
    if (repoId === undefined || commit === undefined) {
      return undefined
    }
    return commit.files.has(last) ? {route: 'resolve', repo: repoId, rest: `${commit.oid}/${last}`} : {route: 'tree', repo: repoId, rest: commit.oid}
  }

  private create(res: ServerResponse, body: {name: string; organization?: string; visibility?: string}): void {
    const id = `${body.organization}/${body.name}`
    if (this.repos.has(id)) {
      return this.json(res, 409, {error: 'You already created this model repo', url: `${this.url}/${id}`})
    }
    this.repos.set(id, {private: body.visibility === 'private', branches: new Map(), commits: []})
    return this.reply(res, 'create', {url: `${this.url}/${id}`, name: id, id: randomBytes(12).toString('hex')})
  }

  private branch(res: ServerResponse, repoId: string, branch: string): void {
    const repo = this.repos.get(repoId)
    if (repo === undefined) {
      return this.json(res, 404, {error: 'Repository not found'})
    }
    if (repo.branches.has(branch)) {
      return this.json(res, 409, {error: 'Reference already exists'})
    }
    const main = repo.branches.get('main')
    if (main !== undefined) {
      repo.branches.set(branch, main)
    }
    return this.json(res, 200, {})
  }

  private lfsBatch(res: ServerResponse, body: {objects: Array<{oid: string; size: number}>}): void {
    const objects = body.objects.map((o) => ({
      oid: o.oid,
      size: o.size,
      authenticated: true,
      ...(this.lfs.has(o.oid) ? {} : {actions: {upload: {href: `${this.url}/__lfs/${o.oid}?X-Amz-Signature=presigned-secret`, expires_at: '2099-01-01T00:00:00Z'}}}),
    }))
    res.setHeader('X-Request-Id', 'fake-request')
    return this.reply(res, 'lfs-batch', {transfer: 'basic', objects}, 'application/vnd.git-lfs+json')
  }

  private commit(res: ServerResponse, repoId: string, branch: string, ndjson: string): void {
    const repo = this.repos.get(repoId)
    if (repo === undefined) {
      return this.json(res, 404, {error: 'Repository not found'})
    }
    const lines = ndjson.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as {key: string; value: Record<string, unknown>})
    const parentOid = repo.branches.get(branch)
    const parent = repo.commits.find((c) => c.oid === parentOid)
    const files = new Map(parent?.files ?? [])
    let title = ''
    for (const {key, value} of lines) {
      if (key === 'header') {
        title = String(value.summary ?? '')
      } else if (key === 'file') {
        files.set(String(value.path), {data: Buffer.from(String(value.content), value.encoding === 'base64' ? 'base64' : 'utf8'), lfs: false})
      } else if (key === 'lfsFile') {
        const data = this.lfs.get(String(value.oid))
        if (data === undefined) {
          return this.json(res, 422, {error: `LFS object ${String(value.oid)} was not uploaded`})
        }
        files.set(String(value.path), {data, lfs: true})
      } else if (key === 'deletedFile') {
        files.delete(String(value.path))
      }
    }
    const oid = randomBytes(20).toString('hex')
    repo.commits.push({oid, parent: parentOid, title, files})
    repo.branches.set(branch, oid)
    return this.reply(res, 'commit', {success: true, commitOid: oid, commitUrl: `${this.url}/${repoId}/commit/${oid}`})
  }

  private info(res: ServerResponse, repoId: string, revision: string): void {
    const commit = this.commitAt(repoId, revision)
    if (commit === undefined) {
      return this.json(res, 404, {error: 'Repository not found'}, {'X-Error-Code': 'RepoNotFound'})
    }
    return this.reply(res, 'info', {
      _id: 'fake',
      id: repoId,
      modelId: repoId,
      sha: commit.oid,
      private: this.repos.get(repoId)?.private ?? false,
      lastModified: '2026-01-01T00:00:00.000Z',
      siblings: [...commit.files.keys()].map((rfilename) => ({rfilename})),
    })
  }

  private tree(res: ServerResponse, repoId: string, rest: string): void {
    const [revision = 'main', ...under] = rest.split('/')
    const commit = this.commitAt(repoId, revision)
    if (commit === undefined) {
      return this.json(res, 404, {error: 'Revision not found'}, {'X-Error-Code': 'RevisionNotFound'})
    }
    const prefix = under.length > 0 ? `${under.join('/')}/` : ''
    const entries = [...commit.files]
      .filter(([path]) => path.startsWith(prefix))
      .map(([path, f]) => ({
        type: 'file',
        path,
        size: f.data.byteLength,
        oid: gitBlobOid(f.data),
        ...(f.lfs ? {lfs: {oid: sha256(f.data), size: f.data.byteLength, pointerSize: 134}} : {}),
      }))
    return this.reply(res, 'tree', entries)
  }

  /** Adds a commit holding `files` on `branch` (created when missing; its parent is the branch's head). */
  addCommit(repoId: string, branch: string, files: Record<string, Buffer>, options: {oid?: string} = {}): FakeCommit {
    const repo = this.repos.get(repoId)
    if (repo === undefined) {
      throw new Error(`fake hub: no repo ${repoId}`)
    }
    const commit: FakeCommit = {oid: options.oid ?? randomBytes(20).toString('hex'), parent: repo.branches.get(branch), title: `commit on ${branch}`, files: new Map()}
    for (const [path, data] of Object.entries(files)) {
      commit.files.set(path, {data, lfs: isLfs(path, data.byteLength)})
    }
    repo.commits.push(commit)
    repo.branches.set(branch, commit.oid)
    return commit
  }

  private resolve(req: IncomingMessage, res: ServerResponse, repoId: string, rest: string, fault?: string): void {
    const slash = rest.indexOf('/')
    const commit = this.commitAt(repoId, rest.slice(0, slash))
    const file = commit?.files.get(rest.slice(slash + 1)) ?? (this.lenient ? commit?.files.get(rest.split('/').at(-1) ?? '') : undefined)
    if (commit === undefined || file === undefined) {
      return this.json(res, 404, {error: 'Entry not found'}, {'X-Error-Code': 'EntryNotFound'})
    }
    const {data} = file
    res.setHeader('X-Repo-Commit', commit.oid)
    res.setHeader('ETag', `"${file.lfs ? sha256(data) : gitBlobOid(data)}"`)
    if (file.lfs) {
      res.setHeader('X-Linked-Etag', `"${sha256(data)}"`)
      res.setHeader('X-Linked-Size', String(data.byteLength))
    }
    res.setHeader('Accept-Ranges', 'bytes')
    const range = fault === 'no-range' ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
    let start = 0
    let end = data.byteLength - 1
    if (range) {
      start = Number(range[1])
      end = range[2] === '' ? end : Math.min(Number(range[2]), end)
      res.statusCode = 206
      res.setHeader('Content-Range', `bytes ${start}-${end}/${data.byteLength}`)
    }
    const slice = Buffer.from(data.subarray(start, end + 1))
    res.setHeader('Content-Length', String(slice.byteLength))
    if (req.method === 'HEAD') {
      res.end()
    } else if (fault === 'stall') {
      res.write(slice.subarray(0, Math.floor(slice.byteLength / 2))) // then nothing, the connection open
    } else {
      if (fault === 'corrupt' && slice.byteLength > 0) {
        slice[slice.byteLength - 1] ^= 0xff
      }
      res.end(slice)
    }
  }

  private reply(res: ServerResponse, routeName: FakeHubRoute, body: unknown, type = 'application/json'): void {
    const answer = this.answer ? this.answer(routeName, body) : body
    res.statusCode = 200
    res.setHeader('Content-Type', type)
    res.end(typeof answer === 'string' ? answer : JSON.stringify(answer))
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.statusCode = status
    res.setHeader('Content-Type', 'application/json')
    for (const [k, v] of Object.entries(headers)) {
      res.setHeader(k, v)
    }
    res.end(JSON.stringify(body))
  }
}

function isLfs(path: string, size: number): boolean {
  return path.endsWith('.safetensors') || size >= LFS_MIN_BYTES
}

function route(method: string, path: string): {route: FakeHubRoute; repo?: string; rest: string} | undefined {
  const repo = '([^/]+/[^/]+?)'
  const table: Array<[string, RegExp, FakeHubRoute]> = [
    ['POST', /^\/api\/repos\/create$/, 'create'],
    ['POST', new RegExp(`^/api/models/${repo}/branch/(.+)$`), 'branch'],
    ['POST', new RegExp(`^/api/models/${repo}/preupload/(.+)$`), 'preupload'],
    ['POST', new RegExp(`^/${repo}\\.git/info/lfs/objects/batch$`), 'lfs-batch'],
    ['PUT', /^\/__lfs\/([0-9a-f]{64})$/, 'lfs-upload'],
    ['POST', new RegExp(`^/api/models/${repo}/commit/(.+)$`), 'commit'],
    ['GET', new RegExp(`^/api/models/${repo}/tree/(.+)$`), 'tree'],
    ['GET', new RegExp(`^/api/models/${repo}/revision/(.+)$`), 'info'],
    ['GET', new RegExp(`^/api/models/${repo}()$`), 'info'],
    ['GET', new RegExp(`^/${repo}/resolve/(.+)$`), 'resolve'],
    ['HEAD', new RegExp(`^/${repo}/resolve/(.+)$`), 'resolve'],
  ]
  for (const [m, re, name] of table) {
    const found = m === method ? re.exec(path) : null
    if (found) {
      if (name === 'create') {
        return {route: name, rest: ''}
      }
      if (name === 'lfs-upload') {
        return {route: name, rest: found[1] ?? ''}
      }
      return {route: name, repo: found[1], rest: found[2] ?? ''}
    }
  }
  return undefined
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
