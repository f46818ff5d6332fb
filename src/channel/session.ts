// The connection to the agent as the rest of spyglass sees it: requests, their streamed
// events and their final data. The channel owns it (client.ts implements it); commands,
// the shell and attach only use it.

/** One event streamed by the agent for a request: `{id, event, data}` on the wire. */
export interface AgentEvent {
  event: string;
  data: unknown;
}

/**
 * The events of one command as a tagged union, from the command's map of event name to
 * data shape (`{ started: Started; call: CallEvent }`): testing `ev.event` narrows
 * `ev.data`, so each shape is declared once, by the command that prints it.
 */
export type EventOf<E> = { [K in keyof E & string]: { event: K; data: E[K] } }[keyof E & string];

/** A running request to the agent. Iterate for events; the iteration ends at `end`. */
export interface AgentStream extends AsyncIterable<AgentEvent> {
  /** ask the agent to stop the command (its hooks are removed) */
  cancel(): void;
  /** data sent with the final `end` message, once iteration has finished */
  readonly endData: unknown;
  /** input for the running request (console's lines, Ctrl-C, Ctrl-D): `{id, input: data}` on the wire */
  send?(data: unknown): void;
}

/** The connection to the agent inside the target (implemented by client.ts). */
export interface AgentSession {
  request(cmd: string, args: Record<string, unknown>): AgentStream;
  /** a request with no stream: resolves with the `end` data, rejects with a UserError on `error` */
  call(cmd: string, args: Record<string, unknown>): Promise<unknown>;
}
