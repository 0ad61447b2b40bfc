// The explorer's shell: hash routing (#/block/12), the tip bar, search,
// and live blocks over the node's SSE stream (/events/blocks).

import { api, h, errorBox, num } from './util.js';
import * as chain from './pages-chain.js';
import * as staking from './pages-staking.js';
import * as modules from './pages-modules.js';
import * as economy from './pages-economy.js';

// routes: [pattern, nav section, render(match, ctx) -> Promise<Node>].
const routes = [
  [/^\/?$/, 'home', chain.overview],
  [/^\/blocks$/, 'blocks', chain.blocks],
  [/^\/block\/(.+)$/, 'blocks', chain.block],
  [/^\/tx\/(.+)$/, 'blocks', chain.tx],
  [/^\/address\/(.+)$/, 'accounts', chain.address],
  [/^\/accounts$/, 'accounts', chain.accounts],
  [/^\/validators$/, 'validators', staking.validators],
  [/^\/proposals$/, 'proposals', staking.proposals],
  [/^\/proposal\/(.+)$/, 'proposals', staking.proposal],
  [/^\/contests$/, 'contests', modules.contests],
  [/^\/contest\/([^/]+)(?:\/round\/(\d+))?$/, 'contests', modules.contest],
  [/^\/providers$/, 'providers', modules.providers],
  [/^\/provider\/(.+)$/, 'providers', modules.provider],
  [/^\/jobs$/, 'jobs', modules.jobs],
  [/^\/job\/(.+)$/, 'jobs', modules.job],
  [/^\/economy$/, 'economy', economy.economy],
  [/^\/search-miss\/(.+)$/, '', chain.searchMiss],
];

const app = document.getElementById('app');
let blockHandlers = [];
let seq = 0;
const recent = []; // times (ms) of the latest blocks, oldest first, for the block rate

// state is read by the browser test (e2e) and by curious operators.
window.inferdExplorer = { tip: 0, page: '', liveBlocks: 0 };

async function render() {
  const path = decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
  const my = ++seq;
  blockHandlers = [];
  app.removeAttribute('data-ready');
  let match = null, section = '', fn = null;
  for (const [re, sec, f] of routes) {
    match = path.match(re);
    if (match) { section = sec; fn = f; break; }
  }
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('on', a.dataset.nav === section);
  let node;
  if (!fn) {
    node = errorBox('No such page', new Error(`Nothing lives at #${path}. Use the menu or search.`));
  } else {
    const ctx = { onBlock: f => blockHandlers.push(f), stale: () => my !== seq };
    try {
      node = await fn(match, ctx);
    } catch (e) {
      node = errorBox('Could not load this page', e);
    }
  }
  if (my !== seq) return; // a newer navigation won
  app.replaceChildren(node);
  window.inferdExplorer.page = section || 'error';
  app.setAttribute('data-page', window.inferdExplorer.page);
  app.setAttribute('data-path', path); // what the browser test waits for
  app.setAttribute('data-ready', '1');
  window.scrollTo(0, 0);
}

function setTip(b) {
  window.inferdExplorer.tip = b.height;
  const tip = document.getElementById('tip');
  tip.textContent = num(b.height);
  tip.href = `#/block/${b.height}`;
  const t = new Date(b.time).getTime();
  if (!recent.length || recent[recent.length - 1] < t) recent.push(t);
  while (recent.length > 30) recent.shift();
  if (recent.length > 1) {
    const secs = (recent[recent.length - 1] - recent[0]) / 1000 / (recent.length - 1);
    document.getElementById('rate').textContent = `${secs.toFixed(2)} s/block`;
  }
}

function live(on) {
  const el = document.getElementById('live');
  el.className = 'live ' + (on ? 'on' : 'off');
  el.textContent = on ? 'live' : 'reconnecting…';
}

// listen follows /events/blocks; EventSource reconnects by itself. A gap
// in ids (a slow reader may miss blocks) is filled from /blocks/{h}.
function listen() {
  const es = new EventSource('/events/blocks');
  es.onopen = () => live(true);
  es.onerror = () => live(false);
  es.addEventListener('block', async ev => {
    const b = JSON.parse(ev.data);
    const last = window.inferdExplorer.tip;
    const missed = [];
    for (let hgt = last + 1; last > 0 && hgt < b.height && missed.length < 20; hgt++) {
      try { missed.push(await api(`/blocks/${hgt}`)); } catch (_) { /* pruned or racing: skip */ }
    }
    for (const x of [...missed, b]) {
      if (x.height <= window.inferdExplorer.tip) continue;
      setTip(x);
      window.inferdExplorer.liveBlocks++;
      for (const f of blockHandlers) {
        try { f(x); } catch (e) { console.warn('live update', e); }
      }
    }
  });
}

function search(q) {
  q = q.trim();
  if (!q) return;
  if (/^\d+$/.test(q)) location.hash = `#/block/${q}`;
  else if (/^#\d+$/.test(q)) location.hash = `#/contest/${q.slice(1)}`;
  else if (/^(0x)?[0-9a-fA-F]{64}$/.test(q)) location.hash = `#/tx/${q.replace(/^0x/, '').toLowerCase()}`;
  else if (/^inf1[0-9a-z]+$/.test(q)) location.hash = `#/address/${q}`;
  else if (/^proposal\s*\d+$/i.test(q)) location.hash = `#/proposal/${q.match(/\d+/)[0]}`;
  else location.hash = `#/search-miss/${encodeURIComponent(q)}`;
}

async function start() {
  document.getElementById('search').addEventListener('submit', e => {
    e.preventDefault();
    search(document.getElementById('q').value);
  });
  window.addEventListener('hashchange', render);
  try {
    const [st, bl] = await Promise.all([api('/status'), api('/blocks?limit=30')]);
    document.getElementById('chain').replaceChildren(h('b', {}, st.chain_id), ` · ${st.moniker || 'node'}`);
    for (const b of bl.blocks.slice().reverse()) setTip(b);
  } catch (e) {
    document.getElementById('chain').textContent = 'node unreachable: ' + e.message;
  }
  listen();
  render();
}

start();
