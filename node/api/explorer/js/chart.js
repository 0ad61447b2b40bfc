// Hand-written SVG charts: a line chart over heights and a 100% stacked
// area chart (the gauge's split). No library: a few axes and paths.

const NS = 'http://www.w3.org/2000/svg';
export const palette = ['#2f5bd3', '#e0712c', '#1a7f37', '#9c27b0', '#c62828', '#00838f', '#8d6e63', '#5c6bc0'];

function s(tag, attrs, ...kids) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const k of kids) el.appendChild(typeof k === 'string' ? document.createTextNode(k) : k);
  return el;
}

// niceTicks returns about n round values spanning [lo, hi].
function niceTicks(lo, hi, n = 5) {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(st => st >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

const W = 760, H = 260, L = 78, R = 16, T = 14, B = 30;

function frame(xs, yLo, yHi, fmtY, fmtX) {
  const x0 = xs[0], x1 = xs[xs.length - 1] === x0 ? x0 + 1 : xs[xs.length - 1];
  const X = x => L + (x - x0) / (x1 - x0) * (W - L - R);
  const Y = y => H - B - (y - yLo) / ((yHi - yLo) || 1) * (H - T - B);
  const g = s('g', { class: 'grid' });
  for (const v of niceTicks(yLo, yHi, 4)) {
    g.appendChild(s('line', { x1: L, x2: W - R, y1: Y(v), y2: Y(v) }));
    g.appendChild(s('text', { x: L - 6, y: Y(v) + 4, 'text-anchor': 'end' }, fmtY(v)));
  }
  for (const v of niceTicks(x0, x1, 6)) {
    if (v < x0 || v > x1) continue;
    g.appendChild(s('text', { x: X(v), y: H - 10, 'text-anchor': 'middle' }, fmtX(v)));
  }
  return { X, Y, g };
}

// lineChart draws series [{name, color, points: [[x, y]...]}]; fmtY and
// fmtX label the axes; each point has a tooltip (title) from tip(x, y, name).
export function lineChart(series, { fmtY = String, fmtX = v => String(Math.round(v)), tip, id } = {}) {
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img' });
  if (id) svg.setAttribute('id', id);
  const all = series.flatMap(se => se.points);
  if (!all.length) {
    svg.appendChild(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no data yet'));
    return svg;
  }
  const xs = [...new Set(all.map(p => p[0]))].sort((a, b) => a - b);
  let yLo = Math.min(...all.map(p => p[1])), yHi = Math.max(...all.map(p => p[1]));
  if (yLo > 0 && yLo < yHi * 0.5) yLo = 0;
  if (yLo === yHi) { yLo = yLo * 0.9; yHi = yHi * 1.1 || 1; }
  const pad = (yHi - yLo) * 0.05;
  const { X, Y, g } = frame(xs, yLo - pad, yHi + pad, fmtY, fmtX);
  svg.appendChild(g);
  series.forEach((se, i) => {
    const color = se.color || palette[i % palette.length];
    const d = se.points.map((p, j) => (j ? 'L' : 'M') + X(p[0]).toFixed(1) + ' ' + Y(p[1]).toFixed(1)).join(' ');
    const attrs = { d, fill: 'none', stroke: color, 'stroke-width': se.dash ? 3 : 2, 'data-series': se.name };
    if (se.dash) attrs['stroke-dasharray'] = '6 4'; // drawn under the next series, which it often equals
    svg.appendChild(s('path', attrs));
    for (const p of se.points) {
      const c = s('circle', { cx: X(p[0]).toFixed(1), cy: Y(p[1]).toFixed(1), r: 3, fill: color });
      c.appendChild(s('title', {}, tip ? tip(p[0], p[1], se.name) : `${se.name}: ${fmtY(p[1])}`));
      svg.appendChild(c);
    }
  });
  return svg;
}

// stackChart draws shares (parts per million) of named parts over x, as
// stacked areas: rows [{x, parts: {name: ppm}}].
export function stackChart(rows, names, { fmtX = v => String(Math.round(v)), id } = {}) {
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img' });
  if (id) svg.setAttribute('id', id);
  if (!rows.length || !names.length) {
    svg.appendChild(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no gauge votes yet'));
    return svg;
  }
  const xs = rows.map(r => r.x);
  const { X, Y, g } = frame(xs, 0, 1000000, v => (v / 10000).toFixed(0) + '%', fmtX);
  svg.appendChild(g);
  const base = rows.map(() => 0);
  names.forEach((name, i) => {
    const top = rows.map((r, j) => base[j] + (r.parts[name] || 0));
    const up = rows.map((r, j) => `${X(r.x).toFixed(1)} ${Y(top[j]).toFixed(1)}`);
    const down = rows.map((r, j) => `${X(r.x).toFixed(1)} ${Y(base[j]).toFixed(1)}`).reverse();
    const area = s('path', { d: 'M' + up.join(' L') + ' L' + down.join(' L') + ' Z', fill: palette[i % palette.length], opacity: 0.8, 'data-series': name });
    area.appendChild(s('title', {}, name));
    svg.appendChild(area);
    top.forEach((v, j) => { base[j] = v; });
  });
  return svg;
}

export function legend(names) {
  const el = document.createElement('div');
  el.className = 'legend';
  names.forEach((n, i) => {
    const item = document.createElement('span');
    const sw = document.createElement('i');
    sw.style.background = palette[i % palette.length];
    item.append(sw, n);
    el.appendChild(item);
  });
  return el;
}
