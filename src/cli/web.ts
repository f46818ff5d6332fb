// `spyglass web`: a local web server with pages for the Python processes on this host,
// a process's threads and live profile, and saved profiles (src/web/). It listens on
// 127.0.0.1 unless --host says otherwise, and prints the one URL (with its secret
// token) that opens it.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { newToken } from '../web/auth.js';
import { pageScript } from '../web/page-html.js';
import { DEFAULT_MAX_UPLOAD, startWebServer } from '../web/server.js';

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`not a port number: '${v}'`, 'use 0 to 65535 (0: any free port)');
  return n;
}

/** Opens the URL in the desktop's browser; without one there is nothing to do. */
function openBrowser(url: string): void {
  const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write('spyglass: could not start a browser (xdg-open); open the URL yourself\n'));
  child.unref();
}

export function registerWeb(program: Command): void {
  program
    .command('web')
    .summary('a browser console: processes, live thread stacks and profiles, saved profiles and their comparison')
    .description(
      'Start a local web server and print the URL (with a secret token) that opens it. Pages: the ' +
        'Python processes on this host; one process read from outside (threads and stacks every second, ' +
        'a live profile: functions table, flame graph, GIL share); one process from inside (attach: the ' +
        'shell in a terminal; leaving the page detaches); saved profiles (collapsed, speedscope, pprof) as ' +
        'flame graph, icicle, left-heavy, table with callers/callees, and a differential view. Listens on ' +
        '127.0.0.1; every request needs the token. Stop it with Ctrl-C.',
    )
    .option('--port <n>', 'the port to listen on (0: any free one)', parsePort, 0)
    .option('--host <addr>', 'the address to listen on; anything but 127.0.0.1/localhost is reachable from other machines', '127.0.0.1')
    .option('--open', "open the URL in the desktop's browser")
    .addHelpText(
      'after',
      `
Examples:
  spyglass web                          # prints http://127.0.0.1:PORT/?token=...
  spyglass web --port 8765 --open
  ssh -L 8765:127.0.0.1:8765 server 'spyglass web --port 8765'   # from a laptop, through SSH`,
    )
    .action(async (o: { port: number; host: string; open?: boolean }) => {
      pageScript(); // a checkout built without the page fails now, not on the first visit
      const server = await startWebServer({
        host: o.host,
        port: o.port,
        token: newToken(),
        maxUploadBytes: DEFAULT_MAX_UPLOAD,
        profileDir: process.cwd(),
      });
      if (!['127.0.0.1', 'localhost', '::1'].includes(o.host)) {
        process.stderr.write(
          `spyglass: warning: listening on ${o.host}: anyone who can reach this address and has the token can read and profile your processes\n` +
            '  hint: prefer the default 127.0.0.1 and an SSH tunnel (ssh -L PORT:127.0.0.1:PORT host)\n',
        );
      }
      process.stdout.write(`spyglass web: open ${server.url}\n  (Ctrl-C stops the server)\n`);
      if (o.open) openBrowser(server.url);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await server.close();
    });
}
