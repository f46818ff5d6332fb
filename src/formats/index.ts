// Every output format of `record`, produced from the one aggregate (StackProfile).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { saveFile, type SavedFile } from '../save-file.js';
import type { StackProfile } from '../sampler/profile.js';

import type { Format } from './names.js';

export { FORMATS, type Format } from './names.js';

/** Formats that need the samples in time order, not only their counts. */
export function needsTimeline(format: Format): boolean {
  return format === 'speedscope' || format === 'chrometrace';
}

/** The file written when -o is not given. */
export function defaultOutput(format: Format): string {
  switch (format) {
    case 'flamegraph':
      return 'flamegraph.html';
    case 'speedscope':
      return 'profile.speedscope.json';
    case 'collapsed':
      return 'profile.collapsed.txt';
    case 'pprof':
      return 'profile.pb.gz';
    case 'chrometrace':
      return 'trace.json';
  }
}

/**
 * A file in dir named after `name` that does not exist yet: name itself, else a number
 * before its extensions (flamegraph-2.html, profile-2.pb.gz). Default output names use
 * it so that a second recording never silently replaces the first one.
 */
export function unusedPath(dir: string, name: string): string {
  const dot = name.indexOf('.', 1);
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  let path = join(dir, name);
  for (let n = 2; existsSync(path); n++) path = join(dir, `${stem}-${n}${ext}`);
  return path;
}

/**
 * The bytes of a profile in a format; a flame graph is SVG when the file name ends in .svg.
 * Each format's module is loaded when it is written: pprof's brings zlib and pprof-format,
 * the flame graph's the page, which a recording in another format never needs at start.
 */
export async function renderProfile(profile: StackProfile, format: Format, path = ''): Promise<string | Buffer> {
  switch (format) {
    case 'flamegraph': {
      const { toFlamegraphHtml, toFlamegraphSvg } = await import('./flamegraph.js');
      return path.toLowerCase().endsWith('.svg') ? toFlamegraphSvg(profile) : toFlamegraphHtml(profile);
    }
    case 'speedscope':
      return JSON.stringify((await import('./speedscope.js')).toSpeedscope(profile));
    case 'collapsed':
      return (await import('./collapsed.js')).toCollapsed(profile);
    case 'pprof':
      return (await import('./pprof.js')).toPprof(profile);
    case 'chrometrace':
      return JSON.stringify((await import('./chrometrace.js')).toChromeTrace(profile));
  }
}

/** How to look at a written file, for the line printed after recording. */
export function openHint(format: Format, path: string): string {
  switch (format) {
    case 'flamegraph':
      return `open it in a browser (file://${path})`;
    case 'speedscope':
      return 'load it at https://www.speedscope.app or with `npx speedscope`';
    case 'collapsed':
      return 'feed it to flamegraph.pl or inferno-flamegraph';
    case 'pprof':
      return '`go tool pprof -http=: ' + path + '`, or upload it to Pyroscope/Grafana';
    case 'chrometrace':
      return 'open it at https://ui.perfetto.dev or chrome://tracing';
  }
}

/** Writes the profile to path, or where it can when path fails at this last step (save-file.ts). */
export async function writeProfile(profile: StackProfile, format: Format, path: string): Promise<SavedFile> {
  return saveFile(path, await renderProfile(profile, format, path));
}
