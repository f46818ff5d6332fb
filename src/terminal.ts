// Whether a standard stream is a terminal, without making Node's stream for it:
// process.stderr.isTTY makes the stream, which loads tty and net (~8 ms of a recording's
// start-up, BENCHMARKS.md "dump start-up") even when the answer is no. Linux's terminals
// are character devices of a few majors: 4 (virtual consoles and serial ports, ttyN and
// ttySN), 5 (/dev/tty, /dev/console) and 136-143 (pseudo-terminals, /dev/pts/N: every
// terminal emulator, ssh, tmux). A terminal of another driver (a USB serial adapter) is
// taken for a file: it then gets no status line, nothing worse.
import { fstatSync } from 'node:fs';

export function isTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice()) return false;
    // glibc's gnu_dev_major: bits 8-19 of the device number (and 32-43, zero here)
    const major = (st.rdev >>> 8) & 0xfff;
    return major === 4 || major === 5 || (major >= 136 && major <= 143);
  } catch {
    return false;
  }
}
