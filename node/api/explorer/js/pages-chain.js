// Pages of the chain itself: the overview, blocks, a block, a
// transaction, an address.

import {
  api, h, inf, num, pct, date, ago, short, blockLink, txLink, addrLink, cid, table, row, kv, card, stat,
  badge, errorBox, loadValidators, proposerLink, names,
} from './util.js';
import { lineChart } from './chart.js';

// txRows fetches the transactions of blocks (hash lists) for a table.
async function txRows(blocks, max) {
  const hashes = [];
  for (const b of blocks) for (const t of b.txs) if (hashes.length < max) hashes.push([t, b]);
  const txs = await Promise.all(hashes.map(([t]) => api(`/txs/${t}`).catch(() => null)));
  return txs.filter(Boolean).map(t => txLine(t, hashes.find(x => x[0] === t.hash)[1].time));
}

function txLine(t, time) {
  const types = t.body ? t.body.msgs.map(m => m.type) : ['(undecodable)'];
  return [txLink(t.hash), blockLink(t.height), types.join(', '), t.body ? addrLink(t.body.sender) : '–',
    t.body ? inf(t.body.fee) : '–', t.result.ok ? badge('ok') : badge('failed'), time ? ago(time) : ''];
}

const txCols = ['Hash', 'Block', 'Messages', 'Sender', { t: 'Fee', num: true }, 'Result', 'Age'];

function blockRow(b, vals) {
  const signed = b.last_commit.total_power ? Math.round(b.last_commit.signed_power * 1e6 / b.last_commit.total_power) : 0;
  return [blockLink(b.height), h('span', { title: date(b.time) }, ago(b.time)), proposerLink(b.proposer, vals),
    num(b.num_txs), h('span', { class: 'mono', title: b.hash }, short(b.hash, 8)),
    commitText(b.last_commit, signed)];
}

// commitText summarises the previous block's commit; a node that does not
// report the set's power gets the signature count alone.
function commitText(lc, signed) {
  if (!lc.total_power) return `${lc.signatures} signatures`;
  return `${lc.signatures}/${lc.validators} · ${pct(signed)} of power`;
}

const blockCols = ['Height', 'Age', 'Proposer', { t: 'Txs', num: true }, 'Hash', 'Signed (prev.)'];
const blockNum = [false, false, false, true, false, false];

export async function overview(_m, ctx) {
  const [bl, vals, sup, contests, provs] = await Promise.all([
    api('/blocks?limit=12'), loadValidators(true), api('/supply'), api('/contests'), api('/providers')]);
  const tip = bl.blocks[0];
  const bonded = vals.list.filter(v => v.bonded);
  const stake = bonded.reduce((a, v) => a + v.tokens, 0);
  const tipStat = stat('Latest block', tip ? blockLink(tip.height) : '–', tip ? date(tip.time) : '');
  tipStat.id = 'stat-tip';
  const stats = h('div', { class: 'stats' },
    tipStat,
    stat('Validators', `${bonded.length} active`, `${inf(stake)} bonded`),
    stat('Circulating', inf(sup.circulating), `minted ${inf(sup.minted)} · burned ${inf(sup.burned)}`),
    stat('Contests', num(contests.contests.filter(c => c.status === 'live').length) + ' live', `${contests.contests.length} in all`),
    stat('Compute providers', num(provs.providers.length), provs.epoch ? `epoch ${provs.epoch.number}` : 'no epoch yet'));
  const tbody = h('tbody', {}, bl.blocks.map(b => row(blockRow(b, vals), blockNum)));
  const blocksTable = h('table', { id: 'latest-blocks' },
    h('thead', {}, h('tr', {}, blockCols.map(c => h('th', { class: typeof c === 'object' ? 'num' : '' }, typeof c === 'object' ? c.t : c)))), tbody);
  const txs = await txRows(bl.blocks, 10);
  ctx.onBlock(async b => {
    const v = await loadValidators();
    const r = row(blockRow(b, v), blockNum);
    r.classList.add('fresh');
    tbody.prepend(r);
    while (tbody.children.length > 12) tbody.lastChild.remove();
    tipStat.replaceWith(Object.assign(stat('Latest block', blockLink(b.height), date(b.time)), { id: 'stat-tip' }));
  });
  return h('div', {},
    h('h1', {}, 'Overview'),
    stats,
    h('div', { class: 'grid' },
      card('Latest blocks', blocksTable, h('p', {}, h('a', { href: '#/blocks' }, 'All blocks →'))),
      card('Latest transactions', table(txCols, txs, 'No transactions in the latest blocks.'))));
}

export async function blocks(_m, ctx) {
  const vals = await loadValidators();
  const tbody = h('tbody', {});
  let lowest = 0;
  const more = h('button', {}, 'Older blocks');
  async function load(to) {
    const r = await api(`/blocks?limit=25${to ? '&to=' + to : ''}`);
    for (const b of r.blocks) tbody.appendChild(row(blockRow(b, vals), blockNum));
    if (r.blocks.length) lowest = r.blocks[r.blocks.length - 1].height;
    more.hidden = lowest <= 1 || !r.blocks.length;
  }
  more.addEventListener('click', () => load(lowest - 1).catch(e => more.replaceWith(errorBox('Could not load', e))));
  await load(0);
  ctx.onBlock(async b => {
    const r = row(blockRow(b, await loadValidators()), blockNum);
    r.classList.add('fresh');
    tbody.prepend(r);
  });
  return h('div', {}, h('h1', {}, 'Blocks'),
    card(null, h('table', { id: 'blocks' },
      h('thead', {}, h('tr', {}, blockCols.map(c => h('th', {}, typeof c === 'object' ? c.t : c)))), tbody),
    h('div', { class: 'pager' }, more)));
}

export async function block(m) {
  const height = m[1];
  let b;
  try {
    b = await api(`/blocks/${encodeURIComponent(height)}`);
  } catch (e) {
    return errorBox(`Block ${height} not found`, e);
  }
  const vals = await loadValidators();
  const txs = await Promise.all(b.txs.map(t => api(`/txs/${t}`).catch(() => null)));
  const lc = b.last_commit;
  return h('div', {},
    h('h1', {}, `Block ${num(b.height)}`, h('small', {}, date(b.time))),
    h('div', { class: 'pager' },
      b.height > 1 ? h('a', { href: `#/block/${b.height - 1}` }, '← previous') : null,
      b.height < window.inferdExplorer.tip ? h('a', { href: `#/block/${b.height + 1}` }, 'next →') : h('span', { class: 'muted' }, 'the latest block')),
    card('Header', kv([
      ['Height', num(b.height)],
      ['Time', `${date(b.time)} (${ago(b.time)})`],
      ['Hash', h('span', { class: 'mono' }, b.hash)],
      ['Proposer', proposerLink(b.proposer, vals)],
      ['Proposer consensus address', h('span', { class: 'mono' }, b.proposer)],
      ['Previous block', b.height > 1 ? h('a', { href: `#/block/${b.height - 1}`, class: 'mono' }, b.last_block_hash) : h('span', { class: 'mono' }, b.last_block_hash)],
      ['App hash (after this block)', h('span', { class: 'mono' }, b.app_hash)],
      ['Last commit', lc.total_power
        ? `block ${lc.height}, round ${lc.round}: ${lc.signatures} of ${lc.validators} validators, power ${num(lc.signed_power)} of ${num(lc.total_power)}`
        : `block ${lc.height}, round ${lc.round}: ${lc.signatures} precommit signatures`],
      ['Transactions', num(b.num_txs)],
    ])),
    card(`Transactions (${b.num_txs})`, table(txCols, txs.filter(Boolean).map(t => txLine(t, b.time)), 'This block has no transactions.')));
}

// field shows one message field: addresses and CIDs as links, amounts in INF.
function field(k, v) {
  if (typeof v === 'string' && /^inf1[0-9a-z]{20,}$/.test(v)) return addrLink(v);
  if (typeof v === 'string' && /^baf[a-z0-9]{20,}$/.test(v)) return cid(v);
  if (typeof v === 'number' && /amount|deposit|bond|price|fee/i.test(k)) return `${inf(v)} (${num(v)} uinf)`;
  if (typeof v === 'number' && /ppm$|commission/i.test(k)) return pct(v);
  if (v !== null && typeof v === 'object') return h('code', {}, JSON.stringify(v));
  if (typeof v === 'string' && v.length > 40) return h('span', { class: 'mono' }, v);
  return String(v);
}

function msgCard(m, i) {
  const v = m.value || {};
  const pairs = Object.entries(v).map(([k, x]) => [k, field(k, x)]);
  return h('div', { class: 'msg' }, h('div', { class: 't' }, `#${i + 1} `, h('code', {}, m.type)),
    pairs.length ? kv(pairs) : h('span', { class: 'muted' }, 'no fields'));
}

function attr(k, v) {
  if (/^inf1[0-9a-z]{20,}$/.test(v)) return addrLink(v);
  if (/^\d+$/.test(v) && /amount|burned|fee|paid|reward|refund|charged|deposit|bond/i.test(k)) return `${inf(Number(v))}`;
  return v;
}

export async function tx(m) {
  const hash = m[1];
  let t;
  try {
    t = await api(`/txs/${encodeURIComponent(hash)}`);
  } catch (e) {
    return errorBox(`Transaction ${short(hash)} not found`, e);
  }
  const b = await api(`/blocks/${t.height}`).catch(() => null);
  const body = t.body;
  return h('div', {},
    h('h1', {}, 'Transaction', h('small', { class: 'mono' }, t.hash)),
    card('Summary', kv([
      ['Hash', h('span', { class: 'mono' }, t.hash)],
      ['Result', t.result.ok ? badge('ok') : h('span', {}, badge('failed'), ' ', t.result.error || '')],
      ['Block', h('span', {}, blockLink(t.height), ` (position ${t.index})`)],
      ['Time', b ? `${date(b.time)} (${ago(b.time)})` : '–'],
      body && ['Sender', addrLink(body.sender)],
      body && ['Nonce', num(body.nonce)],
      body && ['Fee', `${inf(body.fee)} (burned)`],
      body && body.memo && ['Memo', body.memo],
      body && ['Chain', body.chain_id],
    ])),
    card(`Messages (${body ? body.msgs.length : 0})`, body ? body.msgs.map(msgCard) : h('p', { class: 'muted' }, 'The body does not decode with this build.')),
    card('Events', table(['Type', 'Attributes'], (t.result.events || []).map(e => [h('code', {}, e.type),
      kv(Object.entries(e.attrs || {}).sort().map(([k, v]) => [k, attr(k, v)]))]), 'No events (a failed transaction only pays its fee).')),
    h('details', {}, h('summary', {}, 'Raw JSON'), h('pre', { class: 'json' }, JSON.stringify(t, null, 2))));
}

// balanceChart samples the balance at up to 24 heights (client side, ?height=).
async function balanceChart(addr, tip) {
  const n = Math.min(24, tip);
  const hs = [...new Set(Array.from({ length: n }, (_, i) => Math.max(1, Math.round(tip * (i + 1) / n))))];
  const pts = await Promise.all(hs.map(hh => api(`/accounts/${addr}?height=${hh}`).then(a => [hh, a.balance]).catch(() => null)));
  return lineChart([{ name: 'balance', points: pts.filter(Boolean) }],
    { fmtY: v => inf(Math.round(v), false), tip: (x, y) => `height ${x}: ${inf(y)}`, id: 'balance-chart' });
}

export async function address(m) {
  const addr = m[1];
  let acc;
  try {
    acc = await api(`/accounts/${encodeURIComponent(addr)}`);
  } catch (e) {
    return errorBox(`Address ${short(addr, 12)} is not valid`, e);
  }
  // The provider list, not /providers/{addr}: a 404 for every other address would be noise in the console.
  const [vals, provs, em, up, txs] = await Promise.all([loadValidators(), api('/providers'),
    api('/emission'), api('/validators/uptime'), txCard(addr)]);
  const val = vals.byOp.get(addr);
  const prov = provs.providers.find(p => p.address === addr) || null;
  const staked = acc.delegations.reduce((a, d) => a + d.tokens, 0);
  const unbonding = acc.unbondings.reduce((a, u) => a + u.amount, 0);
  const out = h('div', {}, h('h1', {}, names.get(addr) || 'Address', h('small', { class: 'mono' }, addr)),
    h('div', { class: 'stats' },
      stat('Balance', inf(acc.balance), `at height ${num(acc.height)}`),
      stat('Staked', inf(staked), `${acc.delegations.length} delegation(s)`),
      stat('Unbonding', inf(unbonding), `${acc.unbondings.length} entr${acc.unbondings.length === 1 ? 'y' : 'ies'}`),
      stat('Nonce', num(acc.nonce), 'transactions sent')));
  if (val) {
    const u = up.validators.find(x => x.operator === addr);
    out.appendChild(card('Validator', kv([
      ['Moniker', val.moniker || '–'],
      ['Status', val.tombstoned ? badge('tombstoned') : val.jailed ? badge('jailed') : val.bonded ? badge('bonded') : badge('unbonded')],
      ['Stake', inf(val.tokens)], ['Voting power', num(val.power)],
      ['Commission', `${pct(val.commission_ppm)} (max ${pct(val.max_commission_ppm)})`],
      ['Uptime', u ? `${pct(u.signed_ppm)} of the last ${num(u.counted)} blocks (${num(u.missed)} missed)` : '–'],
      ['Consensus address', h('span', { class: 'mono' }, val.cons_address)],
    ])));
  }
  out.appendChild(await rewardsCard(addr, em, prov));
  if (prov) {
    out.appendChild(card('Compute provider', kv([
      ['Status', badge(prov.status)], ['Verified work', `${num(prov.verified_ops)} operations`],
      ['Earned', inf(prov.earned)], ['Bond', inf(prov.bond)], ['Price', `${inf(prov.price)} per job`],
      ['Details', h('a', { href: `#/provider/${addr}` }, 'provider page →')]])));
  }
  out.appendChild(h('div', { class: 'grid' },
    card('Delegations', table(['Validator', { t: 'Tokens', num: true }], acc.delegations.map(d => [addrLink(d.validator), inf(d.tokens)]), 'No delegations.')),
    card('Unbonding', table([{ t: 'Amount', num: true }, 'From', 'Completes'], acc.unbondings.map(u => [inf(u.amount), addrLink(u.validator), date(new Date(u.completion_time / 1e6))]), 'Nothing unbonding.'))));
  out.appendChild(card('Balance over time', await balanceChart(addr, acc.height)));
  out.appendChild(txs);
  return out;
}

async function rewardsCard(addr, em, prov) {
  const pairs = [];
  const ep = em.last_epoch;
  const pay = ep && ep.validators.find(v => v.operator === addr);
  if (pay) pairs.push([`Last epoch (block ${num(ep.height)}) as validator`, `${inf(pay.amount)} to the validator, of which commission ${inf(pay.commission)}`]);
  if (prov) pairs.push(['Compute (lifetime)', inf(prov.earned)]);
  const cs = await api('/contests');
  for (const c of cs.contests) {
    const d = await api(`/contests/${c.id}`).catch(() => null);
    if (!d) continue;
    const won = (d.leaderboard || []).filter(s => s.builder === addr && s.reward);
    const sum = won.reduce((a, s) => a + s.reward, 0);
    if (sum) pairs.push([h('a', { href: `#/contest/${c.id}` }, `Contest #${c.id} ${c.name} as builder`), `${inf(sum)} over ${won.length} submission(s)`]);
    if (c.designer === addr && d.last_round) pairs.push([h('a', { href: `#/contest/${c.id}` }, `Contest #${c.id} as designer`), `${inf(d.last_round.designer_paid)} in round ${d.last_round.round}`]);
  }
  return card('Rewards', pairs.length ? kv(pairs) : h('p', { class: 'muted' }, 'No rewards recorded for this address (delegators are paid each epoch into their balance).'));
}

// txCard lists an address's transactions. The node scans blocks back from
// the tip (there is no index by address), 2000 a request; the card goes on
// by itself until it has 10 or has looked 10 times, then offers a button.
async function txCard(addr) {
  const cols = ['Hash', 'Block', 'Messages', 'Sender', { t: 'Fee', num: true }, 'Result', 'Time'];
  const tbody = h('tbody', {});
  const note = h('p', { class: 'muted' });
  const more = h('button', {}, 'Search older blocks');
  let next = 0, top = 0;
  function add(r) {
    for (const t of r.txs) {
      tbody.appendChild(row([txLink(t.hash), blockLink(t.height), t.types.join(', '), addrLink(t.sender), inf(t.fee),
        t.ok ? badge('ok') : badge('failed'), date(t.time)], [false, false, false, false, true]));
    }
    top = top || r.scanned_to;
    next = r.next_before;
    more.hidden = !next;
    note.textContent = `${tbody.children.length} transaction(s) found in blocks ${num(r.scanned_from)}–${num(top)}` +
      (next ? '; older blocks not searched yet.' : '.');
  }
  async function load(n) {
    for (let i = 0; i < n; i++) {
      add(await api(`/accounts/${addr}/txs${next ? '?before=' + next : ''}`));
      if (!next || tbody.children.length >= 10) break;
    }
  }
  more.addEventListener('click', () => load(1).catch(e => more.replaceWith(errorBox('Could not load', e))));
  await load(10);
  return card('Transactions', h('table', { id: 'address-txs' },
    h('thead', {}, h('tr', {}, cols.map(c => h('th', {}, typeof c === 'object' ? c.t : c)))), tbody), note, h('div', { class: 'pager' }, more));
}

export async function accounts() {
  const [r, sup] = await Promise.all([api('/accounts?limit=100'), api('/supply'), loadValidators()]);
  const rows = r.top.map((a, i) => [String(i + 1), addrLink(a.address), inf(a.balance),
    pct(sup.circulating ? Math.round(a.balance * 1e6 / sup.circulating) : 0)]);
  return h('div', {}, h('h1', {}, 'Accounts', h('small', {}, `largest balances at height ${num(r.height)}`)),
    h('div', { class: 'stats' },
      stat('Accounts', num(r.accounts) + (r.truncated ? '+' : ''), 'with a balance entry'),
      stat('Circulating', inf(sup.circulating)),
      stat('In balances', inf(sup.held.balances || 0), 'the rest is bonded, unbonding, escrowed or in pools')),
    card(null, table(['#', 'Address', { t: 'Balance', num: true }, { t: 'Share of supply', num: true }], rows, 'No accounts.'),
      r.truncated ? h('p', { class: 'muted' }, 'Only the first 100,000 accounts by address were read.') : null,
      h('p', { class: 'muted' }, 'Spendable balances; an address page adds its stake and unbonding.')));
}

export async function searchMiss(m) {
  return errorBox('Nothing found', new Error(`"${m[1]}" is not a block height, a transaction hash (64 hex digits), an inf1… address or a contest number (#1).`));
}
