// Shared helpers: the API client, a DOM builder that never parses markup
// (contest names, memos and proposal texts are user input), formatters
// for the ledger's units, and links between pages.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// api fetches a JSON endpoint of this node; errors carry the API's
// {code, error, message} so pages can say what went wrong.
export async function api(path) {
  let resp;
  try {
    resp = await fetch(path, { headers: { Accept: 'application/json' } });
  } catch (e) {
    throw new ApiError(0, 'unreachable', `cannot reach the node (${e.message})`);
  }
  let body = null;
  try { body = await resp.json(); } catch (_) { /* not JSON: handled below */ }
  if (!resp.ok) {
    const msg = body && body.message ? body.message : `HTTP ${resp.status}`;
    throw new ApiError(resp.status, body && body.error ? body.error : 'http_error', msg);
  }
  return body;
}

// apiOr is api with a fallback for a 404 (an address that is no provider).
export async function apiOr(path, fallback) {
  try { return await api(path); } catch (e) {
    if (e.status === 404) return fallback;
    throw e;
  }
}

// h builds an element: h('a', {href: '#/'}, 'text', child, [more]).
// Strings become text nodes; null/undefined/false children are skipped.
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, kids);
  return el;
}

function append(el, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) append(el, k);
    else if (k instanceof Node) el.appendChild(k);
    else el.appendChild(document.createTextNode(String(k)));
  }
}

// ---- units ----------------------------------------------------------

const UINF = 1000000;

function group(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// inf shows uinf as INF with up to 6 decimals (at least 2): 1500000 ->
// "1.50 INF". Integer arithmetic keeps the digits exact.
export function inf(uinf, unit = true) {
  if (uinf === undefined || uinf === null) return '–';
  const neg = uinf < 0;
  const u = Math.abs(uinf);
  const whole = Math.floor(u / UINF);
  let frac = String(u % UINF).padStart(6, '0').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  return (neg ? '-' : '') + group(whole) + '.' + frac + (unit ? ' INF' : '');
}

// score shows micro-units of a metric as a decimal: 930000 -> "0.9300".
export function score(micro) {
  if (micro === undefined || micro === null) return '–';
  return (micro / UINF).toFixed(4);
}

// pct shows parts per million as a percentage: 250000 -> "25.00%".
export function pct(ppm) {
  if (ppm === undefined || ppm === null) return '–';
  return (ppm / 10000).toFixed(2) + '%';
}

export function num(n) {
  return n === undefined || n === null ? '–' : group(n);
}

// ops shows an operation count with a metric prefix: 2147483648 -> "2.15 G".
export function ops(n) {
  if (!n) return '0';
  const units = ['', ' k', ' M', ' G', ' T', ' P', ' E'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return (i === 0 ? String(v) : v.toFixed(2)) + units[i];
}

function pad(n) { return String(n).padStart(2, '0'); }

// date formats a Date (or RFC 3339 string) as "2026-01-01 00:00:12 UTC".
export function date(d) {
  if (!d) return '–';
  const t = d instanceof Date ? d : new Date(d);
  if (isNaN(t) || t.getTime() <= 0) return '–';
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ` +
    `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} UTC`;
}

// nsDate formats the ledger's unix nanoseconds.
export function nsDate(ns) {
  if (!ns) return '–';
  return date(new Date(ns / 1e6));
}

// ago says how long before now a time was: "12 s ago".
export function ago(d) {
  const t = d instanceof Date ? d : new Date(d);
  const s = Math.round((Date.now() - t.getTime()) / 1000);
  if (isNaN(s)) return '';
  if (s < 0) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function short(hex, n = 10) {
  if (!hex) return '–';
  return hex.length > 2 * n + 1 ? hex.slice(0, n) + '…' + hex.slice(-6) : hex;
}

// ---- links ----------------------------------------------------------

export function blockLink(height) {
  return h('a', { href: `#/block/${height}` }, num(height));
}

export function txLink(hash, n = 10) {
  return h('a', { href: `#/tx/${hash}`, class: 'mono', title: hash }, short(hash, n));
}

// addrLink shows an address, by a known name when there is one.
export function addrLink(addr, label) {
  if (!addr) return '–';
  const name = label || names.get(addr);
  return h('a', { href: `#/address/${addr}`, class: name ? '' : 'mono', title: addr }, name || short(addr, 12));
}

export function cid(c) {
  if (!c) return '–';
  return h('span', { class: 'mono', title: c }, short(c, 14));
}

// names maps known addresses (validator operators and consensus keys) to
// monikers; refreshed by loadValidators.
export const names = new Map();

let valCache = null;
let valAt = 0;

// loadValidators returns {list, byCons, byOp}, cached for 20 s: blocks
// name their proposer by consensus address, pages want the operator.
export async function loadValidators(force = false) {
  if (!force && valCache && Date.now() - valAt < 20000) return valCache;
  const r = await api('/validators');
  const byCons = new Map();
  const byOp = new Map();
  for (const v of r.validators) {
    byCons.set(v.cons_address, v);
    byOp.set(v.operator, v);
    names.set(v.operator, v.moniker || short(v.operator, 12));
  }
  valCache = { list: r.validators, byCons, byOp, height: r.height };
  valAt = Date.now();
  return valCache;
}

// proposerLink shows a block's proposer as its validator's operator when
// the consensus address is known, else the consensus address itself.
export function proposerLink(cons, vals) {
  const v = vals && vals.byCons.get(cons);
  if (v) return addrLink(v.operator, v.moniker || undefined);
  return h('span', { class: 'mono', title: 'consensus address (no validator known for it now)' }, short(cons, 12));
}

// ---- building blocks of pages ----------------------------------------

// table: cols are strings or {t, num}; rows are arrays of cells.
export function table(cols, rows, empty = 'Nothing here yet.') {
  if (!rows.length) return h('p', { class: 'muted' }, empty);
  const isNum = cols.map(c => typeof c === 'object' && c.num);
  return h('table', {},
    h('thead', {}, h('tr', {}, cols.map((c, i) => h('th', { class: isNum[i] ? 'num' : '' }, typeof c === 'object' ? c.t : c)))),
    h('tbody', {}, rows.map(r => row(r, isNum))));
}

export function row(cells, isNum = []) {
  return h('tr', {}, cells.map((c, i) => h('td', { class: isNum[i] ? 'num' : '' }, c)));
}

export function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(p => p).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export function card(title, ...kids) {
  return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, kids);
}

export function stat(k, v, s) {
  return h('div', { class: 'stat' }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v), s ? h('div', { class: 's' }, s) : null);
}

const badgeKinds = {
  ok: ['ok', 'passed', 'active', 'live', 'done', 'agreed', 'pass', 'match', 'bonded', 'yes'],
  bad: ['failed', 'rejected', 'vetoed', 'jailed', 'missed', 'copy', 'wrong_row', 'mismatch', 'tombstoned', 'no', 'veto', 'no_quorum', 'unrevealed', 'no_commit'],
  warn: ['voting_period', 'deposit_period', 'pending', 'assigned', 'open', 'unbonding', 'expired', 'retired', 'inconclusive', 'abstain'],
};

export function badge(text) {
  let kind = 'info';
  for (const [k, words] of Object.entries(badgeKinds)) if (words.includes(text)) kind = k;
  return h('span', { class: 'badge ' + kind }, String(text).replace(/_/g, ' '));
}

export function errorBox(title, err) {
  return h('div', { class: 'error', role: 'alert' }, h('h2', {}, title), h('p', {}, err.message || String(err)));
}

export function bar(ppm) {
  return h('div', { class: 'bar', title: pct(ppm) }, h('i', { style: { width: Math.min(100, ppm / 10000) + '%' } }));
}
