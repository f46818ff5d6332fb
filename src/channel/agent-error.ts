// The error of a request the agent refused, in a module of its own: the CLI's entry
// point names its type in --json failures without loading the client.
import { UserError } from '../errors.js';
import type { AgentErrorInfo } from './protocol.js';

/** The agent's refusals that say a feature is off in the target (UserError.answer). */
const ANSWERS = new Set(['TorchNotImported', 'CudaUnavailable']);

/** A request the agent refused or failed (unknown module, bad expression...). */
export class AgentCommandError extends UserError {
  readonly type: string;
  readonly detail?: string;
  constructor(info: AgentErrorInfo) {
    super(info.message, info.hint);
    this.name = 'AgentCommandError';
    this.type = info.type;
    this.detail = info.detail;
    this.answer = ANSWERS.has(info.type);
  }
}
