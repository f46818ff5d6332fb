// The interactive flame graph that runs in the browser: in record's HTML page and
// standalone SVG, and in `spyglass web`'s pages (bundled there by esbuild), so that one
// component draws every flame graph spyglass shows. It is written here as type-checked
// TypeScript and embedded into record's output file with Function.prototype.toString, so
// it must not refer to anything outside its own body (no imports, no module-level names
// at run time: types are erased).

/** [frame index, total samples, self samples, children, samples in the baseline (differential graphs only)] */
export type FlameNode = [number, number, number, FlameNode[], number?];

export interface FlameData {
  title: string;
  subtitle: string;
  /** per frame: [function name, location ("file.py:12", a native frame's module, "" for thread/process frames), kind ('python', 'native', 'native-python' for the interpreter's own, 'thread', 'process')] */
  frames: Array<[string, string, string]>;
  /** synthetic root ("all"), frame index -1 */
  tree: FlameNode;
  /** each node carries its baseline count (node[4]): coloured by growth (red) and shrink (blue) */
  diff?: boolean;
}

/**
 * A flame graph inside a web page: the elements it draws into, found by class name
 * under `root` (fg-chart, fg-tooltip, and optionally fg-title, fg-subtitle, fg-search,
 * fg-reset, fg-matched, fg-crumbs), so that a page can hold several.
 */
export interface FlameHost {
  root: HTMLElement;
}

export interface FlameView {
  /** icicle: root at the top (record's default); flame: root at the bottom */
  orientation: 'icicle' | 'flame';
  /** children ordered by size, largest first, instead of by name */
  leftHeavy: boolean;
}

export interface FlameController {
  /** new data (a live profile that grew): the zoomed frame and the search are kept */
  update(data: FlameData): void;
  setView(view: Partial<FlameView>): void;
}

export function flamegraphApp(data: FlameData, host: 'html' | 'svg' | FlameHost): FlameController {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const ROW = 17;
  const CHAR_PX = 7;
  const MIN_PX = 0.5;
  const TOP = host === 'svg' ? 60 : 0;
  const view: FlameView = { orientation: 'icicle', leftHeavy: false };

  interface Node {
    id: number;
    frame: number;
    total: number;
    self: number;
    /** samples in the baseline profile, scaled to this one's total (differential graphs) */
    base: number;
    depth: number;
    parent: Node | null;
    children: Node[];
    /** "name (file:line)" */
    label: string;
    /** what search matches against: "name file:line" */
    haystack: string;
  }

  // flatten the tree: ids, parents, depths, labels (again when the data or the order changes)
  let nodes: Node[] = [];
  const build = (raw: FlameNode, parent: Node | null, depth: number): Node => {
    const f = raw[0] >= 0 ? data.frames[raw[0]] : ['all', '', 'root'];
    const label = f[1] ? `${f[0]} (${f[1]})` : f[0];
    const n: Node = {
      id: nodes.length,
      frame: raw[0],
      total: raw[1],
      self: raw[2],
      base: raw[4] ?? 0,
      depth,
      parent,
      children: [],
      label,
      haystack: `${f[0]} ${f[1]}`,
    };
    nodes.push(n);
    for (const c of raw[3]) n.children.push(build(c, n, depth + 1));
    if (view.leftHeavy) n.children.sort((a, b) => b.total - a.total);
    else n.children.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    return n;
  };
  let root: Node;
  let maxDepth = 0;
  const pct = (v: number) => (root.total ? (100 * v) / root.total : 0).toFixed(2) + '%';
  // set by rebuild(), before anything reads it
  let zoomed = undefined as unknown as Node;
  let matcher: RegExp | null = null;
  /** (re)builds the nodes, keeping the zoom on the frame at the same path when it is still there */
  const rebuild = () => {
    const path: number[] = [];
    for (let n: Node | null = zoomed; n?.parent; n = n.parent) path.unshift(n.frame);
    nodes = [];
    root = build(data.tree, null, 0);
    maxDepth = nodes.reduce((m, n) => Math.max(m, n.depth), 0);
    zoomed = root;
    for (const frame of path) {
      const next = zoomed.children.find((c) => c.frame === frame);
      if (!next) break;
      zoomed = next;
    }
  };
  rebuild();

  // ---- host elements -----------------------------------------------------------------
  const doc = document;
  let chart: SVGSVGElement;
  let framesGroup: SVGGElement;
  let showTip: (n: Node, x: number, y: number) => void;
  let hideTip: () => void;
  let setMatched: (text: string) => void;
  let setCrumbs: () => void = () => undefined;
  let width: () => number;

  const svgEl = <K extends keyof SVGElementTagNameMap>(
    tag: K,
    attrs: Record<string, string | number>,
    parent?: Element,
  ): SVGElementTagNameMap[K] => {
    const e = doc.createElementNS(SVG_NS, tag);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(e);
    return e;
  };
  const tipLines = (n: Node): string[] => {
    const f = n.frame >= 0 ? data.frames[n.frame] : ['all', '', 'root'];
    const lines = [f[0]];
    if (f[1]) lines.push(f[1]);
    lines.push(`${n.total} samples (${pct(n.total)})`);
    if (n.children.length) lines.push(`self: ${n.self} samples (${pct(n.self)})`);
    if (data.diff) {
      const change = n.base ? ((100 * (n.total - n.base)) / n.base).toFixed(1) + '%' : 'new';
      lines.push(`before: ${n.base.toFixed(1)} samples (normalised) · change: ${n.total >= n.base && n.base ? '+' : ''}${change}`);
    }
    return lines;
  };

  let setTitles: () => void = () => undefined;
  if (host !== 'svg') {
    // record's page names its elements by id; a web page's flame graph by class under its root
    const find = (name: string): HTMLElement | null =>
      host === 'html' ? doc.getElementById(name) : host.root.querySelector<HTMLElement>('.fg-' + name);
    const byId = (name: string): HTMLElement => find(name) ?? doc.createElement('span');
    chart = find('chart') as unknown as SVGSVGElement;
    framesGroup = svgEl('g', { class: 'fg-frames' }, chart);
    setTitles = () => {
      byId('title').textContent = data.title;
      byId('subtitle').textContent = data.subtitle;
    };
    setTitles();
    const tip = byId('tooltip');
    showTip = (n, x, y) => {
      tip.replaceChildren(
        ...tipLines(n).map((l, i) => Object.assign(doc.createElement('div'), { textContent: l, className: i === 0 ? 'tip-name' : '' })),
      );
      tip.hidden = false;
      const r = tip.getBoundingClientRect();
      tip.style.left = Math.min(x + 12, innerWidth - r.width - 8) + 'px';
      tip.style.top = (y + 16 + r.height > innerHeight ? y - r.height - 8 : y + 16) + 'px';
    };
    hideTip = () => {
      tip.hidden = true;
    };
    const matched = byId('matched');
    setMatched = (t) => {
      matched.textContent = t;
    };
    const search = byId('search') as HTMLInputElement;
    search.addEventListener('input', () => applySearch(search.value));
    byId('reset').addEventListener('click', () => zoom(root));
    // keys belong to the page when the flame graph is one part of it
    if (host === 'html')
      doc.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') {
          if (doc.activeElement === search && search.value) {
            search.value = '';
            applySearch('');
          } else zoom(root);
        } else if ((e.ctrlKey || e.metaKey) && e.key === 'f') {
          e.preventDefault();
          search.focus();
        }
      });
    const crumbs = byId('crumbs');
    setCrumbs = () => {
      const path: Node[] = [];
      for (let n: Node | null = zoomed; n; n = n.parent) path.unshift(n);
      crumbs.replaceChildren(
        ...path.flatMap((n, i) => {
          const a = Object.assign(doc.createElement('a'), { textContent: n.frame >= 0 ? data.frames[n.frame][0] : 'all', href: '#' });
          a.addEventListener('click', (e) => {
            e.preventDefault();
            zoom(n);
          });
          return i ? [doc.createTextNode(' › '), a] : [a];
        }),
      );
    };
    width = () => Math.max(200, (host === 'html' ? doc.documentElement.clientWidth : host.root.clientWidth) - 20);
    addEventListener('resize', () => render());
  } else {
    chart = doc.documentElement as unknown as SVGSVGElement;
    const W = Number(chart.getAttribute('width')) || 1200;
    svgEl('text', { x: W / 2, y: 20, 'text-anchor': 'middle', class: 'title' }, chart).textContent = data.title;
    svgEl('text', { x: W / 2, y: 38, 'text-anchor': 'middle', class: 'subtitle' }, chart).textContent = data.subtitle;
    const reset = svgEl('text', { x: 10, y: 52, class: 'button', id: 'reset' }, chart);
    reset.textContent = 'Reset zoom';
    reset.addEventListener('click', () => zoom(root));
    const searchBtn = svgEl('text', { x: W - 10, y: 20, 'text-anchor': 'end', class: 'button', id: 'search' }, chart);
    searchBtn.textContent = 'Search';
    searchBtn.addEventListener('click', () => {
      const term = prompt('Search (regular expression, empty to clear)', matcher ? matcher.source : '');
      if (term !== null) applySearch(term);
    });
    const matched = svgEl('text', { x: W - 10, y: 52, 'text-anchor': 'end', id: 'matched' }, chart);
    setMatched = (t) => {
      matched.textContent = t;
    };
    framesGroup = svgEl('g', { id: 'frames' }, chart);
    const tip = svgEl('g', { id: 'tooltip', visibility: 'hidden' }, chart);
    const tipBox = svgEl('rect', { rx: 3, class: 'tip-box' }, tip);
    const tipText = svgEl('text', {}, tip);
    showTip = (n, x, y) => {
      tipText.replaceChildren(
        ...tipLines(n).map((l, i) => {
          const s = svgEl('tspan', { x: 6, dy: i ? 15 : 14 });
          s.textContent = l;
          return s;
        }),
      );
      const b = tipText.getBBox();
      tipBox.setAttribute('width', String(b.width + 12));
      tipBox.setAttribute('height', String(b.height + 8));
      const p = chart.createSVGPoint();
      p.x = x;
      p.y = y;
      const m = chart.getScreenCTM();
      const q = m ? p.matrixTransform(m.inverse()) : p;
      tip.setAttribute('transform', `translate(${Math.min(q.x + 12, W - b.width - 20)},${q.y + 16})`);
      tip.setAttribute('visibility', 'visible');
    };
    hideTip = () => tip.setAttribute('visibility', 'hidden');
    width = () => W - 20;
    doc.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') zoom(root);
    });
  }

  // ---- drawing -----------------------------------------------------------------------
  const colour = (n: Node): string => {
    if (matcher?.test(n.haystack)) return 'rgb(230,0,230)';
    const kind = n.frame >= 0 ? data.frames[n.frame][2] : 'root';
    if (data.diff) {
      // growth red, shrink blue, by the change relative to the larger of the two
      const d = (n.total - n.base) / Math.max(n.total, n.base, 1);
      const fade = Math.round(235 - 200 * Math.min(1, Math.abs(d)));
      return d >= 0 ? `rgb(255,${fade},${fade})` : `rgb(${fade},${fade},255)`;
    }
    if (kind !== 'python' && kind !== 'native' && kind !== 'native-python') return 'rgb(180,190,210)';
    // a stable colour per function name: warm for Python, blue for native code, green for the interpreter's own
    let h = 0;
    const name = data.frames[n.frame][0];
    for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    if (kind === 'native') return `rgb(${60 + (h % 50)},${120 + ((h >>> 8) % 60)},${200 + ((h >>> 16) % 55)})`;
    if (kind === 'native-python') return `rgb(${70 + (h % 50)},${170 + ((h >>> 8) % 60)},${90 + ((h >>> 16) % 50)})`;
    return `rgb(${205 + (h % 50)},${80 + ((h >>> 8) % 150)},${40 + ((h >>> 16) % 50)})`;
  };

  function render(): void {
    const W = width();
    const height = TOP + (maxDepth + 1) * ROW + 10;
    chart.setAttribute('height', String(height));
    if (host !== 'svg') chart.setAttribute('width', String(W));
    const out: SVGGElement[] = [];
    const draw = (n: Node, x: number, w: number, faded: boolean) => {
      const g = svgEl('g', { class: faded ? 'frame faded' : 'frame', 'data-id': n.id });
      const y = TOP + (view.orientation === 'icicle' ? n.depth : maxDepth - n.depth) * ROW;
      svgEl('rect', { x: x + 10, y, width: Math.max(w - 1, 0.5), height: ROW - 1, fill: colour(n), rx: 2 }, g);
      const chars = Math.floor((w - 6) / CHAR_PX);
      if (chars >= 3) {
        const t = svgEl('text', { x: x + 13, y: y + ROW - 5 }, g);
        t.textContent = n.label.length <= chars ? n.label : n.label.slice(0, chars - 2) + '..';
      }
      out.push(g);
    };
    // ancestors of the zoomed frame span the whole width, faded
    for (let a = zoomed.parent; a; a = a.parent) draw(a, 0, W, true);
    const walk = (n: Node, x: number, w: number) => {
      draw(n, x, w, false);
      const scale = n.total ? w / n.total : 0;
      let cx = x;
      for (const c of n.children) {
        const cw = c.total * scale;
        if (cw >= MIN_PX) walk(c, cx, cw);
        cx += cw;
      }
    };
    walk(zoomed, 0, W);
    framesGroup.replaceChildren(...out);
    setCrumbs();
  }

  function zoom(n: Node): void {
    zoomed = n;
    hideTip();
    render();
  }

  function applySearch(term: string): void {
    matcher = null;
    if (term) {
      try {
        matcher = new RegExp(term, 'i');
      } catch {
        matcher = new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
      }
    }
    if (!matcher) setMatched('');
    else {
      // a match inside a matched frame is already counted by its ancestor
      let hits = 0;
      const visit = (n: Node) => {
        if (n !== root && matcher!.test(n.haystack)) hits += n.total;
        else n.children.forEach(visit);
      };
      visit(root);
      setMatched(`Matched: ${pct(hits)} (${hits} of ${root.total} samples)`);
    }
    render();
  }

  framesGroup.addEventListener('mousemove', (e) => {
    const g = (e.target as Element).closest('g.frame');
    if (g) showTip(nodes[Number(g.getAttribute('data-id'))], e.clientX, e.clientY);
    else hideTip();
  });
  framesGroup.addEventListener('mouseleave', () => hideTip());
  framesGroup.addEventListener('click', (e) => {
    const g = (e.target as Element).closest('g.frame');
    if (g) zoom(nodes[Number(g.getAttribute('data-id'))]);
  });
  render();
  return {
    update(next: FlameData): void {
      data = next;
      rebuild();
      setTitles();
      if (matcher) applySearch(matcher.source);
      else render();
    },
    setView(v: Partial<FlameView>): void {
      Object.assign(view, v);
      rebuild();
      render();
    },
  };
}
