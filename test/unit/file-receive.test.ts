// The client side of file transfers (torch traces and snapshots): -f paths, chunks in
// order, the size/SHA-256 check, and no file left behind when a transfer fails.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FileReceiver, outputPath } from '../../src/commands/file-receive.js';

function chunks(data: Buffer, size: number): Array<{ seq: number; data: string }> {
  const out = [];
  for (let i = 0; i * size < data.length; i++) out.push({ seq: i, data: data.subarray(i * size, (i + 1) * size).toString('base64') });
  return out;
}

describe('file receive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spyglass-file-receive-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const payload = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256));
  const sha256 = createHash('sha256').update(payload).digest('hex');

  test('paths: relative to the user directory, ~ expanded, a missing directory refused', () => {
    assert.equal(outputPath(dir, 'trace.json'), join(dir, 'trace.json'));
    assert.equal(outputPath(dir, '/tmp/x.json'), '/tmp/x.json');
    assert.equal(outputPath(dir, '~/x.json'), join(homedir(), 'x.json'));
    assert.throws(() => outputPath(dir, 'nope/x.json'), /directory .*nope does not exist/);
  });

  test('chunks in order make the file; it appears only once checked', () => {
    const path = join(dir, 'ok.bin');
    const r = new FileReceiver(path);
    for (const c of chunks(payload, 30_000)) r.chunk(c);
    assert.ok(!existsSync(path), 'not in place before finish');
    assert.equal(r.finish({ bytes: payload.length, sha256, complete: true }), payload.length);
    assert.deepEqual(readFileSync(path), payload);
    assert.ok(!existsSync(path + '.part'));
  });

  test('a chunk out of order, a short or corrupt transfer: nothing is left', () => {
    const r1 = new FileReceiver(join(dir, 'order.bin'));
    assert.throws(() => r1.chunk(chunks(payload, 30_000)[1]), /chunk 1 arrived, 0 expected/);
    r1.discard();
    const r2 = new FileReceiver(join(dir, 'short.bin'));
    r2.chunk(chunks(payload, 30_000)[0]);
    assert.throws(() => r2.finish({ bytes: payload.length, sha256, complete: false }), /incomplete \(30000 of 100000 bytes\)/);
    const r3 = new FileReceiver(join(dir, 'corrupt.bin'));
    for (const c of chunks(payload, 30_000)) r3.chunk(c);
    assert.throws(() => r3.finish({ bytes: payload.length, sha256: '0'.repeat(64), complete: true }), /incomplete/);
    assert.deepEqual(readdirSync(dir).sort(), ['ok.bin']);
  });

  test('the directory removed during the transfer: the file is completed in a private temporary directory', () => {
    const gone = mkdtempSync(join(tmpdir(), 'spyglass-file-receive-gone-'));
    const path = join(gone, 'trace.json');
    const r = new FileReceiver(path);
    const parts = chunks(payload, 30_000);
    r.chunk(parts[0]);
    rmSync(gone, { recursive: true, force: true });
    for (const c of parts.slice(1)) r.chunk(c);
    assert.equal(r.finish({ bytes: payload.length, sha256, complete: true }), payload.length);
    assert.deepEqual(r.notWritten, { path, reason: 'ENOENT: no such file or directory' });
    assert.notEqual(r.path, path);
    assert.match(r.path, /\/spyglass-[^/]+\/trace\.json$/);
    assert.equal(statSync(dirname(r.path)).mode & 0o777, 0o700);
    assert.deepEqual(readFileSync(r.path), payload);
    assert.deepEqual(readdirSync(dirname(r.path)), ['trace.json'], 'no .part left');
    rmSync(dirname(r.path), { recursive: true, force: true });
  });
});
