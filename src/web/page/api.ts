// How the page talks to its server: the token from the URL it was opened with goes into
// a header on every fetch and into the WebSocket's URL (a browser cannot set headers on a
// WebSocket). No cookie is ever set.
import type { ClientMessage, ServerMessage } from '../protocol.js';

const token = new URLSearchParams(location.search).get('token') ?? '';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

async function check(r: Response): Promise<Response> {
  if (r.ok) return r;
  let body: { error?: string; hint?: string } = {};
  try {
    body = await r.json();
  } catch {
    /* not JSON: the status says it */
  }
  throw new ApiError(body.error ?? `${r.status} ${r.statusText}`, body.hint);
}

export async function getJson<T>(path: string): Promise<T> {
  return (await check(await fetch(path, { headers: { 'x-spyglass-token': token } }))).json();
}

export async function postBytes<T>(path: string, body: Blob): Promise<T> {
  return (await check(await fetch(path, { method: 'POST', body, headers: { 'x-spyglass-token': token } }))).json();
}

/** Fetches a file and hands it to the browser as a download named `name`. */
export async function download(path: string, name: string): Promise<void> {
  const blob = await (await check(await fetch(path, { headers: { 'x-spyglass-token': token } }))).blob();
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export interface Socket {
  send(m: ClientMessage): void;
  close(): void;
}

/** A WebSocket to the server; messages sent before it opens wait for it. */
export function openSocket(onMessage: (m: ServerMessage) => void, onClose: () => void): Socket {
  const ws = new WebSocket(`ws://${location.host}/ws?token=${encodeURIComponent(token)}`);
  const queue: string[] = [];
  let closedByUs = false;
  ws.onopen = () => queue.splice(0).forEach((m) => ws.send(m));
  ws.onmessage = (e) => onMessage(JSON.parse(String(e.data)) as ServerMessage);
  ws.onclose = () => {
    if (!closedByUs) onClose();
  };
  return {
    send(m) {
      const s = JSON.stringify(m);
      if (ws.readyState === WebSocket.OPEN) ws.send(s);
      else queue.push(s);
    },
    close() {
      closedByUs = true;
      ws.close();
    },
  };
}
