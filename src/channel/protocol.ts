// The agent protocol's messages, mirrored from agent/PROTOCOL.md (the Python side is
// agent/spyglass_agent/connection.py). One JSON object per line, each way.

export const PROTOCOL_VERSION = 1;
/** must equal VERSION in agent/spyglass_agent/__init__.py (a unit test checks) */
export const AGENT_VERSION = '0.1.0';

export type RequestId = number | string;

// client -> agent
export interface RequestMessage {
  id: RequestId;
  cmd: string;
  args: Record<string, unknown>;
}
export interface CancelMessage {
  id: RequestId;
  cancel: true;
}
/** input for a running interactive request (console) */
export interface InputMessage {
  id: RequestId;
  input: unknown;
}
export interface DetachMessage {
  detach: true;
}
export type ClientMessage = RequestMessage | CancelMessage | InputMessage | DetachMessage;

// agent -> client
export interface AgentErrorInfo {
  /** e.g. ModuleNotFound, BadArguments, NotHookable, PermissionDenied, InternalError */
  type: string;
  message: string;
  hint?: string;
  /** the agent-side traceback of an InternalError */
  detail?: string;
}
export interface EventMessage {
  id: RequestId;
  event: string;
  data: unknown;
}
export interface EndMessage {
  id: RequestId;
  end: true;
  data?: unknown;
  /** the request stopped because the client cancelled it */
  cancelled?: boolean;
  /** events dropped because the client read too slowly */
  dropped?: number;
}
/** a failed request (with id) or a refused/broken connection (without) */
export interface ErrorMessage {
  id?: RequestId;
  error: AgentErrorInfo;
}
export interface DetachedMessage {
  detached: true;
}
export type AgentMessage = EventMessage | EndMessage | ErrorMessage | DetachedMessage;

/** `end` data of the `hello` handshake */
export interface HelloData {
  agent_version: string;
  protocol: number;
  pid: number;
  python: { version: string; hexversion: number; implementation: string; executable: string };
  socket: string;
  started_at: number;
  /** connections open now, this one included */
  clients: number;
  /** this connection's number */
  client: number;
  threads: string[];
}

/** An object as the agent's renderer shows it (agent/spyglass_agent/render.py). */
export interface RenderedNode {
  type: string;
  repr: string;
  len?: number;
  children?: RenderedChild[];
  /** items (or characters) left out */
  truncated?: number;
  /** the object is already being shown higher up the tree */
  cycle?: boolean;
  /** why repr failed (raised, or took too long) */
  error?: string;
}
export interface RenderedChild {
  /** index or attribute name */
  name?: string;
  /** mapping key */
  key?: RenderedNode;
  value: RenderedNode;
}

/** Parses one line from the agent; throws on anything that is not a protocol message. */
export function parseAgentMessage(line: string): AgentMessage {
  const msg = JSON.parse(line) as unknown;
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new Error(`not a protocol message: ${line.slice(0, 200)}`);
  if ('error' in msg || 'detached' in msg || ('id' in msg && ('event' in msg || 'end' in msg))) return msg as AgentMessage;
  throw new Error(`not a protocol message: ${line.slice(0, 200)}`);
}
