// Errors a user can cause and act on. They print as one line (plus an optional hint)
// without a stack trace; anything else is an internal bug and keeps its stack under --debug.

export const EXIT_FAILURE = 1; // the user can act on it: bad pid, no permission, target exited
export const EXIT_USAGE = 2; // unknown option, missing argument
export const EXIT_INTERNAL = 3;

export class UserError extends Error {
  readonly hint?: string;
  readonly exitCode: number;
  /**
   * A refusal that answers what was asked about the target ("torch profile is not
   * enabled"): printed on stdout, where the reference tool prints it and its scripts read
   * it (docs/reference-words.md); other failures go to stderr.
   */
  answer = false;
  constructor(message: string, hint?: string, exitCode = EXIT_FAILURE) {
    super(message);
    this.name = 'UserError';
    this.hint = hint;
    this.exitCode = exitCode;
  }
}

export class UsageError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, hint, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** The target process went away (or was never there). */
export class ProcessGoneError extends UserError {
  constructor(pid: number, message = `process ${pid} does not exist (or has exited)`) {
    super(message, 'check the pid with `spyglass ps`');
    this.name = 'ProcessGoneError';
  }
}

/** The kernel refused us access to the target's memory or ptrace. */
export class PermissionError extends UserError {
  /** hint: when the refusal has a known cause other than permission (another tracer) */
  constructor(pid: number, what = 'read the memory of', hint?: string) {
    super(
      `permission denied: cannot ${what} process ${pid}`,
      hint ??
        'run as the same user as the target or as root; with kernel.yama.ptrace_scope >= 1 you need ' +
          'CAP_SYS_PTRACE (sudo), or `sysctl kernel.yama.ptrace_scope=0`; in a container add `--cap-add SYS_PTRACE`',
    );
    this.name = 'PermissionError';
  }
}

/** The target is not a CPython process spyglass can read. */
export class NotPythonError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, hint ?? 'list Python processes with `spyglass ps`');
    this.name = 'NotPythonError';
  }
}

export function formatUserError(err: UserError): string {
  return `spyglass: ${err.message}` + (err.hint ? `\n  hint: ${err.hint}` : '');
}
