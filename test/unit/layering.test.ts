// Lower layers never import higher ones. The layer order is written down here, once:
// each folder of src/ names the folders directly below it, and a module may import
// from its own folder, from any folder reachable downwards, and from src/'s own files
// (errors, paths, rundir: the base every layer shares). A new folder of src/ must be
// placed here before anything under it builds into a passing test run.
//
// The agent has the same rule in Python: its shared modules (the package root) never
// import a command; only the connection reaches the registry (commands/__init__.py),
// which imports each command on its first request.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../../src/paths.js';

/** folder of src/ -> the folders directly below it (what it may build on). */
const LAYERS: Record<string, string[]> = {
  proc: [], // /proc, ELF, memory reads, ptrace
  reader: ['proc'], // CPython layouts and the thread/frame walk
  native: ['reader'], // machine-code unwinding, merged with the Python frames
  sampler: ['native'], // time and aggregation
  formats: ['sampler'], // pure functions of one aggregate
  record: ['formats'], // sample until the end, then write a format
  channel: ['proc'], // the agent's protocol and the AgentSession type
  attach: ['channel', 'reader'], // ptrace / PEP 768 injection
  gil: ['reader'], // gilstat's outside sampler
  commands: ['record', 'attach', 'gil'], // one module per shell command
  shell: ['commands'], // interactive shell, --cmd, completion
  web: ['shell'], // the browser console's server
  cli: ['web'], // top-level subcommands
};

const BASE = '';

/** Every layer `layer` may import from, itself included. */
function below(layer: string): Set<string> {
  const out = new Set<string>([layer, BASE]);
  const todo = [...(LAYERS[layer] ?? [])];
  while (todo.length) {
    const l = todo.pop()!;
    if (out.has(l)) continue;
    out.add(l);
    todo.push(...(LAYERS[l] ?? []));
  }
  return out;
}

/** The layer of a path relative to src/: its first folder, or BASE for src/'s own files. */
function layerOf(rel: string): string {
  const parts = rel.split('/');
  return parts.length > 1 ? parts[0] : BASE;
}

/** Why `from` (relative to src/) may not import `to` (relative to src/), or null when it may. */
function importProblem(from: string, to: string): string | null {
  const [a, b] = [layerOf(from), layerOf(to)];
  for (const l of [a, b]) {
    if (l !== BASE && !(l in LAYERS)) return `src/${l}/ is not in the layer order (test/unit/layering.test.ts)`;
  }
  if (b.startsWith('..')) return `imports ${to}, outside src/`;
  if (below(a).has(b)) return null;
  return `src/${from} (layer ${a || 'base'}) imports src/${to} (layer ${b || 'base'}), which is not below it`;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.\.?\/[^'"]+)['"]/g;

/** The relative imports of a TypeScript source, as paths of .ts files relative to src/. */
function importsOf(src: string, file: string): string[] {
  const text = readFileSync(join(src, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => relative(src, resolve(src, dirname(file), m[1])).replace(/\.js$/, '.ts'));
}

function walk(dir: string, ext: string, root = dir): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p, ext, root));
    else if (name.endsWith(ext)) out.push(relative(root, p));
  }
  return out.sort();
}

test('no module of src/ imports from a layer above its own, and every folder is placed in the order', () => {
  const src = join(PACKAGE_ROOT, 'src');
  const problems: string[] = [];
  let seen = 0;
  for (const file of walk(src, '.ts')) {
    for (const to of importsOf(src, file)) {
      seen++;
      const p = importProblem(file, to);
      if (p) problems.push(p);
    }
  }
  assert.ok(seen > 200, `only ${seen} imports found: the pattern no longer matches the sources`);
  assert.deepEqual(problems, []);
});

test('the check refuses the imports that once went upwards, and allows the ones that go down', () => {
  for (const [from, to] of [
    ['channel/client.ts', 'commands/types.ts'], // AgentSession belongs to the channel
    ['attach/attach.ts', 'commands/types.ts'],
    ['sampler/pause.ts', 'attach/ptrace.ts'], // ptrace is a process facility
    ['gil/owners.ts', 'channel/socket-path.ts'], // the run directory is its own module
    ['sampler/record.ts', 'formats/index.ts'], // recording sits above the formats
    ['proc/maps.ts', 'reader/reader.ts'],
  ]) {
    assert.ok(importProblem(from, to), `${from} -> ${to} must be refused`);
  }
  for (const [from, to] of [
    ['attach/attach.ts', 'channel/session.ts'],
    ['sampler/pause.ts', 'proc/ptrace.ts'],
    ['gil/owners.ts', 'rundir.ts'],
    ['cli/main.ts', 'proc/process.ts'],
    ['formats/index.ts', 'sampler/profile.ts'],
  ]) {
    assert.equal(importProblem(from, to), null, `${from} -> ${to}`);
  }
  assert.match(importProblem('newthing/a.ts', 'proc/maps.ts')!, /not in the layer order/);
});

/** The agent modules (relative to the package) each agent module imports, from `from .x import` forms. */
function agentImports(pkg: string, file: string): string[] {
  const text = readFileSync(join(pkg, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*from\s+(\.+)([\w.]*)\s+import\s+([\w, ]+)/gm)) {
    let base = dirname(file);
    for (let i = 1; i < m[1].length; i++) base = dirname(base);
    const mod = m[2] ? join(base, ...m[2].split('.')) : base;
    if (m[2]) out.push(mod);
    else out.push(...m[3].split(',').map((n) => join(mod, n.trim())));
  }
  return out.map((p) => (p.startsWith('./') ? p.slice(2) : p));
}

test("the agent's shared modules never import a command; only the connection reaches the registry", () => {
  const pkg = join(PACKAGE_ROOT, 'agent', 'spyglass_agent');
  const problems: string[] = [];
  let seen = 0;
  for (const file of walk(pkg, '.py')) {
    if (file.startsWith('commands/')) continue;
    for (const to of agentImports(pkg, file)) {
      seen++;
      if (to === 'commands' && file === 'connection.py') continue;
      if (to === 'commands' || to.startsWith('commands/')) problems.push(`${file} imports ${to}`);
    }
  }
  assert.ok(seen > 15, `only ${seen} imports found: the pattern no longer matches the sources`);
  assert.deepEqual(problems, []);
});
