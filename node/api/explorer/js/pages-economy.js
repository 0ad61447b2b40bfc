// Supply (minted, burned, circulating) and the gauge (how emission is
// split across modules) over time, from /history/supply and /history/gauge.

import { api, h, inf, num, pct, date, addrLink, table, kv, card, stat } from './util.js';
import { lineChart, stackChart, legend } from './chart.js';

const POINTS = 60;

function timeTip(times) {
  return (x, y, name, fmt) => `${name} at block ${num(x)}${times.get(x) ? ' (' + date(times.get(x)) + ')' : ''}: ${fmt(y)}`;
}

async function supplyCharts() {
  const r = await api(`/history/supply?points=${POINTS}`);
  const times = new Map(r.points.map(p => [p.height, p.time]));
  const tip = timeTip(times);
  const pts = k => r.points.map(p => [p.height, p[k]]);
  const fmt = v => inf(Math.round(v), false);
  const supply = lineChart([{ name: 'minted', points: pts('minted'), dash: true }, { name: 'circulating', points: pts('circulating') }],
    { fmtY: fmt, tip: (x, y, n) => tip(x, y, n, inf), id: 'supply-chart' });
  const burned = lineChart([{ name: 'burned', points: pts('burned'), color: '#c62828' }],
    { fmtY: fmt, tip: (x, y, n) => tip(x, y, n, inf), id: 'burned-chart' });
  const first = r.points[0], last = r.points[r.points.length - 1];
  const span = first && last ? `blocks ${num(first.height)}–${num(last.height)}, ${date(first.time) !== '–' ? date(first.time) + ' to ' + date(last.time) : ''}` : '';
  return { supply, burned, span, points: r.points.length };
}

async function gaugeChart() {
  const r = await api(`/history/gauge?points=${POINTS}`);
  const names = [...new Set(r.points.flatMap(p => p.modules.map(m => m.module)))].sort();
  const rows = r.points.filter(p => p.total_weight > 0).map(p => ({ x: p.height, parts: Object.fromEntries(p.modules.map(m => [m.module, m.share_ppm])) }));
  return { chart: stackChart(rows, names, { id: 'gauge-chart' }), legend: legend(names) };
}

export async function economy(_m, ctx) {
  const [sup, g, em, pools, sc, gc] = await Promise.all([api('/supply'), api('/gauge'), api('/emission'), api('/pools'), supplyCharts(), gaugeChart()]);
  const supplyBox = h('div', {}, sc.supply, legend(['minted', 'circulating']));
  const burnedBox = h('div', {}, sc.burned);
  const spanNote = h('p', { class: 'muted' }, `${sc.points} samples, ${sc.span}`);
  // Redraw the charts every 5 new blocks: cheap, and the tip stays in view.
  ctx.onBlock(async b => {
    if (b.height % 5 !== 0) return;
    const n = await supplyCharts();
    supplyBox.replaceChildren(n.supply, legend(['minted', 'circulating']));
    burnedBox.replaceChildren(n.burned);
    spanNote.textContent = `${n.points} samples, ${n.span}`;
  });
  const ep = em.last_epoch;
  const held = Object.entries(sup.held || {}).sort();
  return h('div', {}, h('h1', {}, 'Supply and emission', h('small', {}, `at height ${num(sup.height)}`)),
    h('div', { class: 'stats' },
      stat('Minted', inf(sup.minted), 'genesis and emission'),
      stat('Burned', inf(sup.burned), 'fees, job charges, slashes'),
      stat('Circulating', inf(sup.circulating), 'minted − burned'),
      stat('Pending emission', inf(sup.pending_emission), 'accrued, paid at the next epoch')),
    card('Supply over time', supplyBox, spanNote),
    h('div', { class: 'grid' },
      card('Burned over time', burnedBox),
      card('Where the supply is held', table(['Holder', { t: 'Amount', num: true }, { t: 'Share', num: true }],
        held.map(([k, v]) => [k, inf(v), pct(sup.circulating ? Math.round(v * 1e6 / sup.circulating) : 0)])))),
    card('Gauge: each module\'s share of the emission over time', gc.chart, gc.legend,
      h('p', { class: 'muted' }, 'Stakers split the weight of their stake across live modules; each epoch the modules\' emission is divided by these shares (after the compute floor).')),
    h('div', { class: 'grid' },
      card('Gauge now', table(['Module', { t: 'Weight', num: true }, { t: 'Share', num: true }],
        g.modules.map(m => [m.module, num(m.weight), pct(m.share_ppm)]), 'No gauge votes yet.'),
      h('h2', { style: { marginTop: '14px' } }, `Voters (${g.voters.length})`),
      table(['Voter', { t: 'Stake', num: true }, 'Split'], g.voters.map(v => [addrLink(v.voter), inf(v.stake),
        v.weights.map(w => `${w.module}×${w.weight}`).join(', ')]), 'Nobody has voted.')),
      card(ep ? `Last epoch payout (block ${num(ep.height)})` : 'Last epoch payout', ep ? h('div', {}, kv([
        ['Divided', inf(ep.pending)], ['To validators', inf(ep.to_validators)], ['Compute floor', inf(ep.compute_floor)],
        ['To module pools', inf(ep.to_pools)], ['Carried over', inf(ep.carried)]]),
        table(['Module pool', { t: 'Paid', num: true }, { t: 'Gauge weight', num: true }], ep.pools.map(p => [p.module, inf(p.amount), num(p.weight)]), 'No gauge shares paid.'),
        table(['Validator', { t: 'Paid', num: true }, { t: 'Commission', num: true }], ep.validators.map(v => [addrLink(v.operator), inf(v.amount), inf(v.commission)])))
        : h('p', { class: 'muted' }, 'No epoch paid yet.')),
      card('Module pools now', table(['Pool', { t: 'Balance', num: true }], Object.entries(pools.pools).sort().map(([k, v]) => [k, inf(v)]), 'No pools.'))));
}
