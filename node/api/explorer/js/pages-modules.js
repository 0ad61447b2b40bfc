// Contests, compute providers and jobs.

import { api, h, inf, num, pct, score, ops, short, blockLink, addrLink, cid, table, kv, card, stat, badge, errorBox } from './util.js';

const phaseColors = { commit: '#2f5bd3', reveal: '#00838f', attest_commit: '#e0712c', attest_reveal: '#9c27b0', settle: '#8a94a6' };

// timeline draws the round's windows to scale, the current phase outlined.
function timeline(r) {
  if (!r || !r.commit) return h('p', { class: 'muted' }, 'No round in progress.');
  const len = Math.max(1, r.end - r.start + 1);
  const parts = [['commit', r.commit], ['reveal', r.reveal], ['attest_commit', r.attest_commit], ['attest_reveal', r.attest_reveal],
    ['settle', { start: r.attest_reveal.end + 1, end: r.end }]];
  return h('div', {},
    h('div', { class: 'timeline', id: 'round-timeline' }, parts.map(([name, w]) => {
      const n = Math.max(0, w.end - w.start + 1);
      return h('div', { class: r.phase === name ? 'on' : '', title: `${name.replace('_', ' ')}: blocks ${w.start}–${w.end}`,
        style: { width: (n * 100 / len) + '%', background: phaseColors[name] } }, n * 100 / len > 10 ? name.replace('_', ' ') : '');
    })),
    h('div', { class: 'muted' }, `Round ${r.round}: blocks ${num(r.start)}–${num(r.end)}; now `, h('b', {}, r.phase.replace('_', ' ')),
      ` at block ${num(r.height)}; the round closes in block ${num(r.end)}.`));
}

function subRows(subs) {
  return subs.map(s => [String(s.round), String(s.index), addrLink(s.builder), cid(s.model), badge(s.status),
    s.agreed_score !== undefined ? h('b', { class: 'score' }, score(s.agreed_score)) : '–',
    s.attesting_stake ? inf(s.attesting_stake) : '–', s.breakthrough ? badge(`breakthrough #${s.rank}`) : '', s.reward ? inf(s.reward) : '–']);
}

const subCols = ['Round', '#', 'Builder', 'Model', 'Status', { t: 'Agreed score', num: true }, { t: 'Attesting stake', num: true }, '', { t: 'Reward', num: true }];

export async function contests() {
  const r = await api('/contests');
  const rows = r.contests.map(c => [h('a', { href: `#/contest/${c.id}` }, `#${c.id}`), h('a', { href: `#/contest/${c.id}` }, c.name),
    badge(c.status), `${c.metric} (${c.direction})`, h('b', {}, score(c.best_score)), c.round ? `${c.round.round} · ${c.round.phase.replace('_', ' ')}` : '–',
    inf(c.pool), addrLink(c.designer)]);
  return h('div', {}, h('h1', {}, 'Contests'),
    card(null, table(['ID', 'Name', 'Status', 'Metric', { t: 'Best score', num: true }, 'Round · phase', { t: 'Pool', num: true }, 'Designer'], rows,
      'No contests yet: a contest is proposed through governance (docs/contests.md).')));
}

export async function contest(m) {
  let c;
  try {
    c = await api(`/contests/${encodeURIComponent(m[1])}`);
  } catch (e) {
    return errorBox(`Contest ${m[1]} not found`, e);
  }
  const sp = c.spec;
  const cur = c.round ? c.round.round : 0;
  const lr0 = c.last_round;
  // The round shown in full: the one asked for, else the last closed one, else the current one.
  const want = m[2] ? Number(m[2]) : (lr0 ? lr0.round : cur);
  let roundCard;
  try {
    roundCard = roundDetail(await api(`/contests/${c.id}/rounds/${want}`), cur);
  } catch (e) {
    roundCard = errorBox(`Round ${want}`, e);
  }
  // Chips for round 1, the rounds with agreed submissions, and the last 12.
  const pick = new Set([1, ...(c.leaderboard || []).map(s => s.round)]);
  for (let i = Math.max(1, cur - 11); i <= cur; i++) pick.add(i);
  const rounds = [...pick].filter(i => i <= cur).sort((a, b) => a - b)
    .map(i => h('a', { href: `#/contest/${c.id}/round/${i}`, class: i === want ? 'badge info' : 'badge' }, `round ${i}`));
  const lr = c.last_round;
  return h('div', {}, h('h1', {}, `Contest #${c.id}: ${c.name}`, h('small', {}, badge(c.status))),
    h('div', { class: 'stats' },
      stat('Best score', h('span', { id: 'best-score' }, score(c.best_score)), `${sp.metric}, ${sp.direction}; baseline ${score(sp.baseline)}`),
      stat('Pool', inf(c.pool), c.pool_name),
      stat('Round', c.round ? `${num(c.round.round)} · ${c.round.phase.replace('_', ' ')}` : '–', c.round ? `ends at block ${num(c.round.end)}` : ''),
      stat('Best model', c.best_model ? cid(c.best_model) : 'baseline', c.best_builder ? addrLink(c.best_builder) : '')),
    card('Current round', timeline(c.round)),
    card('Leaderboard (agreed scores)', table(subCols, subRows(c.leaderboard || []), 'No agreed submission yet.')),
    card(`Round ${want}${want === cur ? ' (current)' : ''}`, h('div', { class: 'pager' }, rounds), roundCard),
    lr ? card(`Round ${lr.round} payout (block ${num(lr.height)})`, kv([
      ['Pool at close', inf(lr.pool)], ['Split this round', inf(lr.fresh)],
      ['Builders', `${inf(lr.builders_paid)} of ${inf(lr.builders_pot)}`], ['Designer', inf(lr.designer_paid)],
      ['Validators', `${inf(lr.validators_paid)} of ${inf(lr.validators_pot)}`],
      ['Agreed / breakthroughs', `${lr.agreed} / ${lr.breakthroughs}`],
      ['Best score', `${score(lr.best_before)} → ${score(lr.best_after)}`],
      ['Carried to next round', `builders ${inf(lr.carry_builders)}, validators ${inf(lr.carry_validators)}`],
      ['Block', blockLink(lr.height)]])) : null,
    card('Spec', kv([
      ['Objective', h('span', { style: { whiteSpace: 'pre-wrap' } }, sp.objective || '–')],
      ['Designer', addrLink(sp.designer)],
      ['Evaluator', sp.evaluator.builtin ? `built-in ${sp.evaluator.builtin}` : h('span', {}, 'wasm ', cid(sp.evaluator.wasm))],
      ['Metric', `${sp.metric} (${sp.direction}); baseline ${score(sp.baseline)}, breakthrough at +${score(sp.min_improvement)}`],
      ['Validators', `${sp.validators.policy.replace('_', ' ')}${sp.validators.top_n ? ' ' + sp.validators.top_n : ''}; quorum ${pct(sp.validators.quorum_ppm)} of stake`],
      ['Reward curve', sp.reward.curve.replace(/_/g, ' ') + (sp.reward.k ? `, k = ${sp.reward.k}` : '')],
      ['Split', `builders ${pct(sp.split.builders_ppm)} · designer ${pct(sp.split.designer_ppm)} · validators ${pct(sp.split.validators_ppm)}`],
      ['Schedule', `rounds of ${sp.schedule.round_length_blocks} blocks: commit ${sp.schedule.commit_blocks}, reveal ${sp.schedule.reveal_blocks}, attest ${sp.schedule.attest_commit_blocks} + ${sp.schedule.attest_reveal_blocks}`],
      sp.commit_deposit && ['Commit deposit', inf(sp.commit_deposit)],
      ['Datasets', (sp.datasets || []).length ? h('div', {}, sp.datasets.map((d, i) => h('div', {}, `${d.name} (${d.policy}): `,
        c.dataset_cids[i] ? cid(c.dataset_cids[i]) : h('span', { class: 'muted' }, 'sealed until revealed')))) : '–'],
      ['Created', blockLink(c.created_height)],
    ])));
}

// roundDetail shows one round: its submissions, the frozen validator set
// and each validator's attestation, scores in the order of v.scored.
function roundDetail(v, cur) {
  const subs = new Map(v.submissions.map(s => [s.index, s]));
  const head = ['Validator', { t: 'Stake at commit', num: true }, 'Revealed',
    ...v.scored.map(i => ({ t: `#${i} ${subs.get(i) ? short(subs.get(i).builder, 8) : ''}`, num: true })), 'Agreed', { t: 'Reward', num: true }];
  const atts = v.attestations.map(a => [addrLink(a.validator), inf(a.stake), a.revealed ? badge('yes') : badge('no'),
    ...v.scored.map((_, j) => {
      const sc = a.scores && a.scores[j];
      return !sc ? '–' : sc.abstain ? h('span', { class: 'muted' }, 'abstain') : score(sc.value);
    }), a.agreed ? badge('agreed') : '', a.reward ? inf(a.reward) : '–']);
  const phase = v.round === cur ? v.phase.replace('_', ' ') : v.closed ? 'closed' : v.phase;
  return h('div', { id: 'round-detail' },
    h('p', { class: 'muted' }, `Blocks ${num(v.start)}–${num(v.end)}; ${phase}` +
      (v.frozen ? `; validator set frozen: ${v.validator_set.length} validators, ${inf(v.set_stake)}` : '; the validator set freezes at the end of the reveal window')),
    h('h2', {}, `Submissions (${v.submissions.length})`),
    table(subCols, subRows(v.submissions), 'No submissions in this round.'),
    h('h2', { style: { marginTop: '14px' } }, `Attestations (${v.attestations.length})`),
    table(head, atts, 'No attestations yet: validators commit their scores after the reveal window, then reveal them.'));
}

function provRow(p) {
  return [addrLink(p.address), badge(p.status), `tier ${p.tier} (n = ${num(p.n)})`, `${p.active_jobs}/${p.capacity}`, inf(p.price),
    inf(p.bond), h('span', { title: `${num(p.verified_ops)} operations` }, ops(p.verified_ops)),
    `${p.uptime} passed / ${p.downtime} missed`, p.last_outcome ? badge(p.last_outcome) : '–', inf(p.earned)];
}

const provCols = ['Provider', 'Status', 'Resources', 'Jobs / capacity', { t: 'Price per job', num: true }, { t: 'Bond', num: true },
  { t: 'Verified ops', num: true }, 'Epochs', 'Last epoch', { t: 'Earned', num: true }];

function epochCard(e) {
  if (!e) return card('Compute epoch', h('p', { class: 'muted' }, 'No epoch has started yet.'));
  return card(`Compute epoch ${e.number}`, kv([
    ['Blocks', `${num(e.start_height)}–${num(e.end_height)} (commits until ${num(e.commit_deadline)}, attestations until ${num(e.attest_deadline)})`],
    ['Providers challenged', num(e.providers)], ['Rows checked per provider', num(e.rows_checked)],
    ['Block seed', h('span', { class: 'mono' }, e.block_seed)]]));
}

export async function providers() {
  const r = await api('/providers');
  const total = r.providers.reduce((a, p) => a + p.verified_ops, 0);
  return h('div', {}, h('h1', {}, 'Compute providers'),
    h('div', { class: 'stats' },
      stat('Providers', num(r.providers.length), `${r.providers.filter(p => p.status === 'active').length} active`),
      stat('Verified work', ops(total) + ' ops', 'matrix-multiplication challenges passed'),
      stat('Earned', inf(r.providers.reduce((a, p) => a + p.earned, 0)), 'lifetime emission paid')),
    epochCard(r.epoch),
    card(null, table(provCols, r.providers.map(provRow), 'No providers registered (inferd run --provider).')));
}

export async function provider(m) {
  let p;
  try {
    p = await api(`/providers/${encodeURIComponent(m[1])}`);
  } catch (e) {
    return errorBox(`Provider ${m[1]} not found`, e);
  }
  const jobs = await api('/jobs');
  const mine = jobs.jobs.filter(j => j.provider === p.address);
  const ch = p.challenge;
  return h('div', {}, h('h1', {}, 'Compute provider', h('small', { class: 'mono' }, p.address)),
    h('div', { class: 'stats' },
      stat('Verified work', ops(p.verified_ops) + ' ops', `${num(p.verified_ops)} operations`),
      stat('Earned', inf(p.earned), 'lifetime'),
      stat('Epochs', `${p.uptime} passed`, `${p.downtime} missed, ${p.missed} in a row`),
      stat('Status', badge(p.status), p.jailed_until ? `jailed until block ${num(p.jailed_until)}` : '')),
    card('Resources and terms', kv([
      ['Account', addrLink(p.address)], ['Tier', `${p.tier}: challenge n = ${num(p.n)} (2n³ = ${ops(2 * p.n ** 3)} ops per epoch)`],
      ['Capacity', `${p.capacity} concurrent jobs (${p.active_jobs} running)`], ['Price', `${inf(p.price)} per job`],
      ['Bond', inf(p.bond)], ['Registered', blockLink(p.registered_height)],
      ['Last epoch', p.last_outcome ? h('span', {}, badge(p.last_outcome), ` epoch ${p.last_epoch}, ${ops(p.last_epoch_ops)} ops`) : '–'],
      p.unbond_at && ['Unbonds at', blockLink(p.unbond_at)]])),
    card('Challenge this epoch', ch ? kv([
      ['Epoch', num(ch.epoch)], ['Seed', h('span', { class: 'mono' }, ch.seed)],
      ['Root', ch.root ? h('span', { class: 'mono' }, ch.root) : h('span', { class: 'muted' }, 'not committed yet')],
      ['Rows checked', ch.rows ? ch.rows.join(', ') : h('span', { class: 'muted' }, 'drawn at the commit deadline')]])
      : h('p', { class: 'muted' }, 'No challenge in this epoch (the provider was not live at its start).')),
    card(`Jobs (${mine.length})`, table(jobCols, mine.map(jobRow), 'No jobs assigned to this provider.')));
}

const jobCols = ['ID', 'Status', 'User', 'Provider', 'Workload', { t: 'Max price', num: true }, { t: 'Charged (burned)', num: true }, { t: 'Refunded', num: true }, 'Submitted'];

function jobRow(j) {
  return [h('a', { href: `#/job/${j.id}` }, `#${j.id}`), badge(j.status), addrLink(j.user), j.provider ? addrLink(j.provider) : '–',
    cid(j.workload), inf(j.max_price), j.charged ? inf(j.charged) : '–', j.refunded ? inf(j.refunded) : '–', blockLink(j.submitted_height)];
}

export async function jobs() {
  const r = await api('/jobs');
  const byStatus = {};
  for (const j of r.jobs) byStatus[j.status] = (byStatus[j.status] || 0) + 1;
  return h('div', {}, h('h1', {}, 'Jobs'),
    h('div', { class: 'stats' },
      stat('Jobs', num(r.jobs.length), Object.entries(byStatus).map(([k, v]) => `${v} ${k}`).join(' · ') || 'none yet'),
      stat('Fees burned', inf(r.jobs.reduce((a, j) => a + (j.charged || 0), 0)), 'charged to users')),
    card(null, table(jobCols, r.jobs.map(jobRow), 'No jobs yet (inferd tx job submit).')));
}

export async function job(m) {
  let j;
  try {
    j = await api(`/jobs/${encodeURIComponent(m[1])}`);
  } catch (e) {
    return errorBox(`Job ${m[1]} not found`, e);
  }
  return h('div', {}, h('h1', {}, `Job #${j.id}`, h('small', {}, badge(j.status))),
    card('Job', kv([
      ['User', addrLink(j.user)], ['Provider', j.provider ? h('a', { href: `#/provider/${j.provider}` }, j.provider) : 'not assigned'],
      ['Workload', cid(j.workload)], ['Input', h('span', {}, cid(j.input), ` (${num(j.input_size)} bytes)`)],
      ['Max price (escrowed)', inf(j.max_price)], ['Provider price', j.price ? inf(j.price) : '–'],
      ['Charged (burned)', j.charged ? inf(j.charged) : '–'], ['Refunded', j.refunded ? inf(j.refunded) : '–'],
      ['Result', j.result ? h('a', { href: `/ipfs/${j.result}`, class: 'mono' }, j.result) : j.error ? j.error : '–'],
      ['Submitted', blockLink(j.submitted_height)], j.assigned_height && ['Assigned', blockLink(j.assigned_height)],
      j.finished_height && ['Finished', blockLink(j.finished_height)], ['Deadline', blockLink(j.deadline_height)],
      j.reexec && ['Re-execution', h('span', {}, badge(j.reexec), j.reexec_end_height ? ` until block ${num(j.reexec_end_height)}` : '')]])));
}
