// A client in its own process, for tests that kill -9 it mid-stream: connects to the
// agent socket (argv[2]) of pid argv[3], starts `probe` on __main__.compute, prints
// HOOKED once the hook is in, then waits to be killed.
import { AgentClient } from '../../src/channel/client.js';

const [socketPath, pid] = [process.argv[2], Number(process.argv[3])];
const client = await AgentClient.connect(socketPath, { expectPid: pid });
for await (const e of client.request('probe', { module: '__main__', method: 'compute' })) {
  if (e.event === 'hooked') process.stdout.write('HOOKED\n');
}
