// A tiny line chart on a canvas (0-100 % over the last minutes): the GIL holder share.
import { h } from './dom.js';

const KEEP = 300;

export interface Chart {
  el: HTMLElement;
  add(t: number, pct: number): void;
  clear(): void;
}

export function percentChart(label: string): Chart {
  const canvas = h('canvas', { width: 600, height: 120, class: 'chart' });
  const points: Array<[number, number]> = [];
  const draw = () => {
    const c = canvas.getContext('2d');
    if (!c) return;
    const { width: W, height: H } = canvas;
    c.clearRect(0, 0, W, H);
    c.strokeStyle = '#ddd';
    c.fillStyle = '#888';
    c.font = '11px system-ui, sans-serif';
    for (const p of [0, 50, 100]) {
      const y = H - 14 - ((H - 24) * p) / 100;
      c.beginPath();
      c.moveTo(30, y);
      c.lineTo(W, y);
      c.stroke();
      c.fillText(`${p}%`, 0, y + 4);
    }
    if (points.length < 1) return;
    const t0 = points[0][0];
    const span = Math.max(points[points.length - 1][0] - t0, 10);
    c.strokeStyle = '#c03';
    c.lineWidth = 2;
    c.beginPath();
    points.forEach(([t, p], i) => {
      const x = 30 + ((W - 34) * (t - t0)) / span;
      const y = H - 14 - ((H - 24) * p) / 100;
      if (i) c.lineTo(x, y);
      else c.moveTo(x, y);
    });
    c.stroke();
    c.fillStyle = '#888';
    c.fillText(`${(span).toFixed(0)} s`, W - 30, H - 2);
  };
  draw();
  return {
    el: h('figure', { class: 'chart-box' }, h('figcaption', {}, label), canvas),
    add(t, pct) {
      points.push([t, pct]);
      if (points.length > KEEP) points.shift();
      draw();
    },
    clear() {
      points.length = 0;
      draw();
    },
  };
}
