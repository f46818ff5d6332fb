// Finds every CPython interpreter on this machine that spyglass supports (3.8+), so the
// end-to-end tests run the whole version matrix: pyenv's shared builds, python3.X on PATH,
// and Debian's static /usr/bin/python3.11. SPYGLASS_TEST_PYTHONS=path,path limits the set.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Interpreter {
  /** executable to run */
  path: string;
  /** full version, e.g. "3.11.7" */
  version: string;
  /** "3.11" */
  minor: string;
  /** "shared" when libpython is a separate .so, "static" when linked into the executable */
  build: 'shared' | 'static';
  /** short label for test names: "3.11.7-shared" */
  label: string;
}

export const SEARCHED_PLACES = ['/root/.pyenv/versions/*/bin/python3.X', 'python3.X on PATH (X = 8..14)', '/usr/bin/python3.11'];

function candidates(): string[] {
  const env = process.env.SPYGLASS_TEST_PYTHONS;
  if (env) return env.split(',').filter(Boolean);
  const out: string[] = [];
  const pyenv = '/root/.pyenv/versions';
  if (existsSync(pyenv)) {
    for (const v of readdirSync(pyenv)) {
      const m = /^3\.(\d+)\.\d+$/.exec(v);
      if (m && Number(m[1]) >= 8) out.push(join(pyenv, v, 'bin', `python3.${m[1]}`));
    }
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (let minor = 8; minor <= 14; minor++) out.push(join(dir, `python3.${minor}`));
  }
  out.push('/usr/bin/python3.11');
  return out;
}

let cached: Interpreter[] | undefined;

export function discoverPythons(): Interpreter[] {
  if (cached) return cached;
  const seen = new Set<string>();
  const found: Interpreter[] = [];
  for (const c of candidates()) {
    if (!existsSync(c) || c.includes('/shims/')) continue;
    let real: string;
    try {
      real = realpathSync(c);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    try {
      const info = execFileSync(
        c,
        // decide shared/static from what is really mapped: Debian's sysconfig claims a
        // shared build although /usr/bin/python3.11 has libpython linked in statically
        [
          '-c',
          "import sys,os;print('%d.%d.%d' % sys.version_info[:3]);print('libpython' in open('/proc/self/maps').read());print(hasattr(sys, 'gettotalrefcount'));print(os.path.realpath(sys.executable))",
        ],
        { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'ignore'] },
      )
        .trim()
        .split('\n');
      if (info[2] === 'True') continue; // debug builds are not supported
      if (seen.has(info[3]) && info[3] !== real) continue; // a wrapper (pyenv shim) of one already found
      seen.add(info[3]);
      const version = info[0];
      const minor = version.split('.').slice(0, 2).join('.');
      const build = info[1] === 'True' ? 'shared' : 'static';
      found.push({ path: info[3], version, minor, build, label: `${version}-${build}` });
    } catch {
      // not runnable: skip
    }
  }
  found.sort((a, b) => a.label.localeCompare(b.label, undefined, { numeric: true }));
  cached = found;
  return found;
}

/** The interpreters that can import `module` (numpy: tests that skip, saying so, when none can). */
export function pythonsWith(module: string): Interpreter[] {
  return discoverPythons().filter((py) => spawnSync(py.path, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0);
}
