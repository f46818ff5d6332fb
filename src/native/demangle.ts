// C++ names made readable with the C++ runtime's own demangler, __cxa_demangle, called
// through koffi: Node links libstdc++, so it is always there (docs/native-unwinding.md §3).
// A name that is not mangled, or that the demangler refuses, is returned as it is.
import { koffi } from '../proc/koffi.js';

let api: { demangle: (name: string, buf: null, len: null, status: number[]) => unknown; free: (p: unknown) => void } | null | undefined;

function load(): typeof api {
  if (api !== undefined) return api;
  try {
    const cxx = koffi().load('libstdc++.so.6');
    const c = koffi().load('libc.so.6');
    api = {
      demangle: cxx.func('void *__cxa_demangle(const char *name, void *buf, void *len, _Out_ int *status)'),
      free: c.func('void free(void *p)'),
    };
  } catch {
    api = null; // no C++ runtime: names stay mangled
  }
  return api;
}

const cache = new Map<string, string>();

export function demangle(name: string): string {
  if (!name.startsWith('_Z')) return name;
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  let out = name;
  const a = load();
  if (a) {
    const status = [0];
    const p = a.demangle(name, null, null, status);
    if (p) {
      if (status[0] === 0) out = koffi().decode(p, 'char', -1) as string;
      a.free(p);
    }
  }
  cache.set(name, out);
  return out;
}
