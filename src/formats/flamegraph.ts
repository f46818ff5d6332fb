// Flame graph output: one self-contained file (HTML page or SVG image with its script
// inside) that works offline. Frames are drawn icicle-style, root at the top; hover shows
// function, file:line, samples and percent; click zooms, Reset/breadcrumb/Escape go back;
// search highlights matching frames and reports the matched share of samples.
import { nativeLocation, type StackProfile, type TreeNode } from '../sampler/profile.js';
import { flamegraphApp, type FlameData, type FlameNode } from './flamegraph-app.js';

/** libpython, or the executable of a static build */
const INTERPRETER_MODULE = /^(libpython\d|python\d)/;

/** Per frame: [function name, "file.py:12" or module, kind]; thread and process frames are their label. */
export function flameFrames(profile: StackProfile): Array<[string, string, string]> {
  return profile.frames.map((f, i): [string, string, string] => {
    // the interpreter's own native frames are told apart from other libraries'
    if (f.kind === 'native') return [f.name, nativeLocation(f), INTERPRETER_MODULE.test(f.filename) ? 'native-python' : 'native'];
    if (f.kind !== 'python') return [profile.label(i), '', f.kind];
    return [f.name, f.line > 0 ? `${f.shortFile}:${f.line}` : f.shortFile, f.kind];
  });
}

/** "1000 samples · 1200 thread samples · 100 Hz · 10.0 s · 2026-01-01 12:00:00" */
export function profileSubtitle(profile: StackProfile): string {
  const m = profile.meta;
  const parts = [
    `${m.ticks} samples`,
    `${profile.total} thread samples`,
    `${m.rate} Hz`,
    `${m.duration.toFixed(1)} s`,
    new Date(m.startedAt).toISOString().replace('T', ' ').slice(0, 19),
  ];
  if (m.errors) parts.push(`${m.errors} errors dropped`);
  return parts.join(' · ');
}

export function flameData(profile: StackProfile): FlameData {
  const convert = (n: TreeNode): FlameNode => [n.frame, n.total, n.self, n.children.map(convert)];
  return {
    title: profile.meta.title || 'spyglass profile',
    subtitle: profileSubtitle(profile),
    frames: flameFrames(profile),
    tree: convert(profile.tree()),
  };
}

/** JSON that is safe inside <script> and inside an XML CDATA section. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const FRAME_CSS = `
  .frame text { font: 12px ui-monospace, Menlo, Consolas, monospace; fill: #000; pointer-events: none; }
  .frame { cursor: pointer; }
  .frame:hover rect { stroke: #000; stroke-width: 0.8; }
  .frame.faded rect { opacity: 0.45; }`;

export function toFlamegraphHtml(profile: StackProfile): string {
  const data = flameData(profile);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(data.title)}</title>
<style>
  body { margin: 0; font: 14px system-ui, sans-serif; background: #fff; color: #222; }
  header { padding: 10px; position: sticky; top: 0; background: #fffe; border-bottom: 1px solid #ddd; z-index: 1; }
  h1 { font-size: 17px; margin: 0 0 2px; word-break: break-all; }
  #subtitle { color: #666; font-size: 12px; }
  .controls { margin-top: 8px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  #search { width: 22em; padding: 3px 6px; }
  #matched { color: #a0a; font-weight: 600; }
  #crumbs { margin-top: 6px; font-size: 12px; }
  #crumbs a { color: #06c; }
  #chart { display: block; margin: 6px 0; }
  #tooltip { position: fixed; background: #fffff0; border: 1px solid #888; border-radius: 4px; padding: 6px 8px; font-size: 12px;
             pointer-events: none; box-shadow: 0 2px 6px #0003; max-width: 60em; word-break: break-all; z-index: 2; }
  #tooltip .tip-name { font-weight: 600; }
  ${FRAME_CSS}
</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <div id="subtitle"></div>
  <div class="controls">
    <input id="search" type="search" placeholder="Search functions or file:line (regex)" autocomplete="off">
    <button id="reset" type="button">Reset zoom</button>
    <span id="matched"></span>
  </div>
  <nav id="crumbs"></nav>
</header>
<svg id="chart" xmlns="http://www.w3.org/2000/svg"></svg>
<div id="tooltip" hidden></div>
<script>
(${flamegraphApp.toString()})(${scriptJson(data)}, 'html');
</script>
</body>
</html>
`;
}

export function toFlamegraphSvg(profile: StackProfile, width = 1200): string {
  const data = flameData(profile);
  // the script sets the height once it knows the depth; this one fits the header
  return `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="80" font-family="system-ui, sans-serif">
<title>${escapeXml(data.title)}</title>
<style>
  .title { font-size: 17px; font-weight: 600; }
  .subtitle { font-size: 12px; fill: #666; }
  .button { font-size: 13px; fill: #06c; cursor: pointer; text-decoration: underline; }
  #matched { font-size: 13px; fill: #a0a; font-weight: 600; }
  .tip-box { fill: #fffff0; stroke: #888; }
  #tooltip text { font-size: 12px; pointer-events: none; }
  #tooltip { pointer-events: none; }
  ${FRAME_CSS}
</style>
<script type="text/ecmascript"><![CDATA[
(${flamegraphApp.toString()})(${scriptJson(data)}, 'svg');
]]></script>
</svg>
`;
}
