// Validators and governance.

import { api, h, inf, num, pct, nsDate, addrLink, table, kv, card, stat, badge, errorBox, bar, loadValidators } from './util.js';

export async function validators() {
  const [vals, up, em] = await Promise.all([loadValidators(true), api('/validators/uptime'), api('/emission')]);
  const upBy = new Map(up.validators.map(u => [u.operator, u]));
  const total = vals.list.reduce((a, v) => a + (v.bonded ? v.power : 0), 0);
  const pay = new Map(((em.last_epoch && em.last_epoch.validators) || []).map(p => [p.operator, p]));
  const rows = vals.list.map((v, i) => {
    const u = upBy.get(v.operator);
    const share = total ? Math.round(v.power * 1e6 / total) : 0;
    const p = pay.get(v.operator);
    return [String(i + 1), addrLink(v.operator, v.moniker || undefined),
      v.tombstoned ? badge('tombstoned') : v.jailed ? badge('jailed') : v.bonded ? badge('bonded') : badge('unbonded'),
      inf(v.tokens), h('div', {}, bar(share), pct(share)), pct(v.commission_ppm),
      u ? h('span', { title: `${u.missed} missed of ${u.counted}` }, pct(u.signed_ppm)) : '–',
      p ? inf(p.amount) : '–'];
  });
  const bonded = vals.list.filter(v => v.bonded);
  return h('div', {}, h('h1', {}, 'Validators', h('small', {}, `at height ${num(vals.height)}`)),
    h('div', { class: 'stats' },
      stat('Active', num(bonded.length), `${vals.list.length} in all`),
      stat('Bonded stake', inf(bonded.reduce((a, v) => a + v.tokens, 0))),
      stat('Uptime window', `${num(up.window)} blocks`, 'a validator below the minimum is jailed and slashed'),
      stat('Last epoch to validators', em.last_epoch ? inf(em.last_epoch.to_validators) : '–', em.last_epoch ? `at block ${num(em.last_epoch.height)}` : 'no epoch yet')),
    card(null, table(['#', 'Validator', 'Status', { t: 'Stake', num: true }, 'Voting power', { t: 'Commission', num: true },
      { t: 'Uptime', num: true }, { t: 'Last epoch reward', num: true }], rows, 'No validators.')));
}

function tallyBars(t) {
  if (!t) return h('span', { class: 'muted' }, 'no tally yet');
  const sum = t.yes + t.no + t.abstain + t.veto;
  const part = (k, color) => {
    const ppm = sum ? Math.round(t[k] * 1e6 / sum) : 0;
    return h('div', { class: 'k' + k, title: `${k}: ${inf(t[k])}`, style: { width: ppm / 10000 + '%', background: color } }, ppm > 80000 ? k : '');
  };
  return h('div', {},
    h('div', { class: 'timeline' }, part('yes', '#1a7f37'), part('no', '#c62828'), part('abstain', '#8a94a6'), part('veto', '#6d1b7b')),
    h('div', { class: 'muted' }, `yes ${inf(t.yes)} · no ${inf(t.no)} · abstain ${inf(t.abstain)} · veto ${inf(t.veto)}` +
      (t.total_bonded ? ` · turnout ${pct(Math.round(sum * 1e6 / t.total_bonded))} of ${inf(t.total_bonded)} bonded` : '')));
}

// heightBefore finds the last block whose time is before ns (unix
// nanoseconds) by bisection over block times: about 20 requests at most.
async function heightBefore(ns) {
  const t = ns / 1e6;
  const at = async hh => new Date((await api(`/blocks/${hh}`)).time).getTime();
  let lo = 1, hi = (await api('/blocks/latest')).height;
  try {
    if (await at(lo) >= t) return 0;
    if (await at(hi) < t) return hi;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await at(mid) < t) lo = mid; else hi = mid;
    }
  } catch (_) {
    return 0;
  }
  return lo;
}

function kindOf(p) {
  return p.content && p.content.kind ? p.content.kind.replace(/_/g, ' ') : 'text';
}

export async function proposals() {
  const r = await api('/proposals');
  const rows = r.proposals.slice().reverse().map(p => [h('a', { href: `#/proposal/${p.id}` }, `#${p.id}`),
    h('a', { href: `#/proposal/${p.id}` }, p.title), kindOf(p), badge(p.status), addrLink(p.proposer),
    inf(p.total_deposit), nsDate(p.voting_end || p.deposit_end)]);
  return h('div', {}, h('h1', {}, 'Governance proposals'),
    card(null, table(['ID', 'Title', 'Kind', 'Status', 'Proposer', { t: 'Deposit', num: true }, 'Voting ends'], rows, 'No proposals yet.')));
}

export async function proposal(m) {
  let p;
  try {
    p = await api(`/proposals/${encodeURIComponent(m[1])}`);
  } catch (e) {
    return errorBox(`Proposal ${m[1]} not found`, e);
  }
  const vals = await loadValidators();
  // The ledger drops the votes of a finished proposal; read them at the
  // last block of its voting period.
  let votesNote = '';
  if (!p.votes.length && p.voting_end && p.status !== 'voting_period' && p.status !== 'deposit_period') {
    const hgt = await heightBefore(p.voting_end);
    if (hgt) {
      const old = await api(`/proposals/${p.id}?height=${hgt}`).catch(() => null);
      if (old && old.votes.length) {
        p.votes = old.votes;
        votesNote = `as cast, read at block ${num(hgt)} (the last of the voting period)`;
      }
    }
  }
  const tally = p.current_tally || (p.status !== 'voting_period' && p.status !== 'deposit_period' ? p.final_tally : null);
  const voteRows = p.votes.map(v => {
    const val = vals.byOp.get(v.voter);
    return [addrLink(v.voter), badge(v.option), val ? inf(val.tokens) + ' (validator)' : ''];
  });
  return h('div', {}, h('h1', {}, `Proposal #${p.id}`, h('small', {}, p.title)),
    card('Summary', kv([
      ['Title', p.title], ['Status', badge(p.status)], ['Kind', kindOf(p)],
      ['Proposer', addrLink(p.proposer)], ['Submitted', nsDate(p.submit_time)],
      ['Deposit', `${inf(p.total_deposit)} (deposit period ends ${nsDate(p.deposit_end)})`],
      ['Voting', p.voting_start ? `${nsDate(p.voting_start)} → ${nsDate(p.voting_end)}` : 'not started'],
      p.result && ['Result', p.result],
      p.content && p.content.kind && p.content.kind.startsWith('contest/') && ['Contest', h('a', { href: '#/contests' }, 'see contests →')],
    ])),
    card('Description', h('p', { style: { whiteSpace: 'pre-wrap' } }, p.description || '–')),
    card(p.current_tally ? 'Tally so far' : 'Final tally', tallyBars(tally)),
    h('div', { class: 'grid' },
      card(`Votes (${p.votes.length})`, votesNote ? h('p', { class: 'muted' }, votesNote) : null, table(['Voter', 'Option', 'Stake'], voteRows, 'No votes yet (delegators inherit their validator\'s vote).')),
      card(`Deposits (${p.deposits.length})`, table(['Depositor', { t: 'Amount', num: true }], p.deposits.map(d => [addrLink(d.depositor), inf(d.amount)]), 'No deposits.'))));
}
