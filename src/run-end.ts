// How a run of spyglass ends before its work is done: Ctrl-C, or the reader of its stdout
// going away (`spyglass dump PID | head -2`, `less` then `q`). Both stop the running
// command through its own way out (hooks removed, agent session closed, a recording
// written, the target resumed and detached), never by killing spyglass where it stands.
// The exit status then says which (README, "Exit status and streams"): 130 after Ctrl-C;
// 0 when the reader left, as ripgrep does: it had what it wanted.

const outputGone = new AbortController();
let interrupted = false;

/** Aborted once stdout's reader has gone: whatever writes results has no one to write for. */
export const stdoutClosed: AbortSignal = outputGone.signal;

/**
 * Installed once by main, before anything is written. A write to a closed pipe fails
 * asynchronously with an 'error' event (EPIPE), which without a listener ends node with a
 * stack trace; here it becomes stdoutClosed instead. Any other error of stdout (EIO from a
 * terminal that was closed) means the same: nothing written from now on can be read.
 */
export function watchOutputStreams(): void {
  process.stdout.on('error', () => outputGone.abort());
  // nowhere left to say anything: the run still ends through its own way out
  process.stderr.on('error', () => undefined);
}

/** The run was ended by Ctrl-C (main then exits 130 unless the command set its own status). */
export function markInterrupted(): void {
  interrupted = true;
}

export function wasInterrupted(): boolean {
  return interrupted;
}

/**
 * The signal a command that runs until stopped listens to: aborted by the first Ctrl-C
 * (the command ends as it would at its own end; a second Ctrl-C exits 130 at once) and
 * when stdout closes. dispose() removes the handlers.
 */
export function stopSignal(): { signal: AbortSignal; abort(): void; dispose(): void } {
  const ac = new AbortController();
  const onSigint = () => {
    if (ac.signal.aborted && interrupted) process.exit(130);
    markInterrupted();
    ac.abort();
  };
  const onClosed = () => ac.abort();
  process.on('SIGINT', onSigint);
  if (stdoutClosed.aborted) ac.abort();
  else stdoutClosed.addEventListener('abort', onClosed, { once: true });
  return {
    signal: ac.signal,
    /** the command's own way of stopping (top's q key) */
    abort: () => ac.abort(),
    dispose() {
      process.off('SIGINT', onSigint);
      stdoutClosed.removeEventListener('abort', onClosed);
    },
  };
}
