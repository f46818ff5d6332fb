// The bootstrap the injector runs: small enough for one page, binds no name where it
// runs, and the TypeScript protocol constants match the agent's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootstrapSource } from '../../src/attach/bootstrap.js';
import { AGENT_VERSION, PROTOCOL_VERSION } from '../../src/channel/protocol.js';
import { agentSocketPath } from '../../src/channel/socket-path.js';
import { AGENT_DIR } from '../../src/paths.js';

test('bootstrap: one exec() expression statement under one page, naming the socket and the agent', () => {
  const socketPath = agentSocketPath(1000, 4194304);
  assert.equal(socketPath, '/tmp/spyglass-1000/4194304/agent.sock');
  const src = bootstrapSource({ socketPath });
  assert.ok(Buffer.byteLength(src) < 4096, `${Buffer.byteLength(src)} bytes`);
  assert.match(src, /^exec\(".*", \{'__name__': '_spyglass_bootstrap'\}\)\n$/s);
  assert.equal(src.split('\n').length, 2, 'a single line: nothing but one expression statement');
  const body = JSON.parse(src.slice(5, src.lastIndexOf(', {'))) as string;
  assert.ok(body.includes(JSON.stringify(socketPath)));
  assert.ok(body.includes(JSON.stringify(join(AGENT_DIR, 'spyglass_agent'))));
  assert.match(body, /except BaseException:/);
  const other = bootstrapSource({ socketPath, agentDir: '/opt/x' });
  assert.ok(other.includes('/opt/x/spyglass_agent'));
});

test('protocol constants match the agent', () => {
  const init = readFileSync(join(AGENT_DIR, 'spyglass_agent', '__init__.py'), 'utf8');
  assert.equal(/^VERSION = '([^']+)'/m.exec(init)?.[1], AGENT_VERSION);
  const protocol = readFileSync(join(AGENT_DIR, 'spyglass_agent', 'protocol.py'), 'utf8');
  assert.equal(Number(/^PROTOCOL_VERSION = (\d+)/m.exec(protocol)?.[1]), PROTOCOL_VERSION);
});
