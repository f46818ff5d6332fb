// `spyglass web`'s server: Node's http for the page and its JSON API, ws for the live
// parts. Every request needs the token; requests from other sites are refused; uploads
// are capped and parsed as data (docs/web.md).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer } from 'ws';
import { UserError } from '../errors.js';
import { FORMATS, renderProfile, type Format } from '../formats/index.js';
import { refusedOrigin, requestToken, tokenMatches } from './auth.js';
import { Connection, MAX_MESSAGE_BYTES } from './connection.js';
import { openProfile } from './import/index.js';
import { pageHtml } from './page-html.js';
import { ProcessLister } from './process-rows.js';
import { ProfileRegistry } from './profiles.js';
import { type WrittenFile, WrittenFiles } from './written-files.js';

export interface WebOptions {
  host: string;
  /** 0: any free port */
  port: number;
  token: string;
  /** the largest profile that may be uploaded */
  maxUploadBytes: number;
  /** where `record`'s files written since the start are looked for (the working directory) */
  profileDir?: string;
}

export const DEFAULT_MAX_UPLOAD = 64 * 1024 * 1024;

export interface WebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** The request body, refused as soon as it outgrows the cap (the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > max) return reject(new HttpError(413, `the file is ${declared} bytes, more than the ${max} bytes allowed`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
      // past the cap nothing is kept; the rest is read and dropped, so that the browser
      // gets the answer rather than a broken connection, up to a point
      else if (size > 4 * max) req.destroy();
    });
    req.on('end', () =>
      size > max ? reject(new HttpError(413, `the file is more than the ${max} bytes allowed`)) : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

export async function startWebServer(o: WebOptions): Promise<WebServer> {
  const registry = new ProfileRegistry(o.profileDir);
  const written = new WrittenFiles();
  const lister = new ProcessLister();
  const loopback = LOOPBACK.has(o.host);
  let allowedHosts: Set<string> | undefined;
  const connections = new Set<Connection>();

  const guard = (req: IncomingMessage, url: URL): HttpError | undefined => {
    const why = refusedOrigin(req, allowedHosts);
    if (why) return new HttpError(403, why);
    if (!tokenMatches(requestToken(req, url), o.token))
      return new HttpError(401, 'a valid token is required: open the URL spyglass web printed');
    return undefined;
  };

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/') {
      const nonce = randomBytes(16).toString('base64');
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self' ws://${req.headers.host}; img-src data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      });
      res.end(pageHtml(nonce));
      return;
    }
    if (req.method === 'GET' && path === '/api/ps') return sendJson(res, 200, { rows: lister.list() });
    if (req.method === 'GET' && path === '/api/profiles') {
      return sendJson(res, 200, {
        profiles: registry
          .list()
          .map((e) => ({ id: e.id, name: e.name, source: e.source, createdAt: e.createdAt, downloads: e.profile ? FORMATS : [] })),
      });
    }
    if (req.method === 'POST' && path === '/api/profiles') {
      const name = (url.searchParams.get('name') || 'uploaded profile').slice(0, 200);
      const body = await readBody(req, o.maxUploadBytes);
      const table = openProfile(body, name);
      const entry = registry.add({ name, source: 'upload', table: () => table });
      return sendJson(res, 200, { id: entry.id, name, table });
    }
    const m = /^\/api\/profiles\/([0-9a-f]{16})(\/download)?$/.exec(path);
    if (req.method === 'GET' && m) {
      const entry = registry.get(m[1]);
      if (!entry) throw new HttpError(404, 'no such profile (the server was restarted?)');
      if (!m[2]) return sendJson(res, 200, { id: entry.id, name: entry.name, table: entry.table() });
      const format = url.searchParams.get('format') as Format;
      if (!entry.profile || !FORMATS.includes(format))
        throw new HttpError(400, `a live profile downloads as one of: ${FORMATS.join(', ')}`);
      const bytes = await renderProfile(entry.profile, format);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(bytes);
      return;
    }
    const f = /^\/api\/files\/([0-9a-f]{16})$/.exec(path);
    if (req.method === 'GET' && f) {
      const file = written.get(f[1]);
      if (!file) throw new HttpError(404, 'no such file (the server was restarted?)');
      await sendFile(res, file);
      return;
    }
    throw new HttpError(404, `nothing at ${path}`);
  };

  const server: Server = createServer((req, res) => {
    // nothing the server sends may be framed, sniffed, cached or followed with a referrer
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('cache-control', 'no-store');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refused = guard(req, url);
    if (refused) {
      res.writeHead(refused.status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(refused.message + '\n');
      return;
    }
    route(req, res, url).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : e instanceof UserError ? 400 : 500;
      const err = e as Error;
      if (res.headersSent) return res.destroy();
      sendJson(res, status, { error: err?.message ?? String(e), ...(e instanceof UserError && e.hint ? { hint: e.hint } : {}) });
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refused = url.pathname === '/ws' ? guard(req, url) : new HttpError(404, 'not found');
    if (refused) {
      socket.end(`HTTP/1.1 ${refused.status} Refused\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${refused.message}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c = new Connection(ws, registry, written);
      connections.add(c);
      ws.on('close', () => connections.delete(c));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new UserError(`port ${o.port} is in use`, 'choose another with --port, or --port 0 for any free one')
          : new UserError(`cannot listen on ${o.host}:${o.port}: ${e.message}`),
      ),
    );
    server.listen(o.port, o.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  if (loopback) allowedHosts = new Set([...LOOPBACK].map((h) => (h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`)));
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host === '0.0.0.0' ? '127.0.0.1' : o.host;
  return {
    url: `http://${shownHost}:${port}/?token=${o.token}`,
    port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await Promise.all([...connections].map((c) => c.close()));
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
    },
  };
}

/** A file a command wrote, as an attachment; one that has gone since is a 404, not a crash. */
async function sendFile(res: ServerResponse, file: WrittenFile): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(file.path, 'r');
  } catch (e) {
    throw new HttpError(404, `${file.name} is no longer there: ${(e as Error).message}`);
  }
  try {
    const { size } = await handle.stat();
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': size,
      'content-disposition': `attachment; filename="${file.name.replace(/[^\w.-]/g, '_')}"`,
    });
    await pipeline(handle.createReadStream({ autoClose: false }), res);
  } finally {
    await handle.close();
  }
}
