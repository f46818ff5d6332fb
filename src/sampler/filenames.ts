// Short file names for frame labels, the way Python samplers show them: the path cut
// just below the topmost directory that is still a package (has an __init__.py), so
// "/srv/app/.venv/lib/python3.11/site-packages/django/db/models/query.py" reads
// "django/db/models/query.py" and a script reads "app.py".
import { existsSync } from 'node:fs';
import { basename, dirname, posix } from 'node:path';

/**
 * Returns the short form of an absolute path. Directories are looked up under root
 * (the target's /proc/PID/root, so that a target in another mount namespace works);
 * pseudo file names such as "<frozen importlib._bootstrap>" are returned unchanged.
 */
export function shortFilename(path: string, root = '', isPackage: (dir: string) => boolean = defaultIsPackage(root)): string {
  if (!path.startsWith('/')) return path;
  let dir = dirname(path);
  let short = basename(path);
  while (dir !== '/' && isPackage(dir)) {
    short = posix.join(basename(dir), short);
    dir = dirname(dir);
  }
  return short;
}

function defaultIsPackage(root: string): (dir: string) => boolean {
  return (dir) => existsSync(`${root}${dir}/__init__.py`);
}

/** shortFilename with one filesystem lookup per directory for the life of the cache. */
export function cachedShortener(root = ''): (path: string) => string {
  const packages = new Map<string, boolean>();
  const files = new Map<string, string>();
  const lookup = defaultIsPackage(root);
  const isPackage = (dir: string) => {
    let v = packages.get(dir);
    if (v === undefined) packages.set(dir, (v = lookup(dir)));
    return v;
  };
  return (path) => {
    let v = files.get(path);
    if (v === undefined) files.set(path, (v = shortFilename(path, root, isPackage)));
    return v;
  };
}
