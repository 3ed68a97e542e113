/**
 * The live status page: one HTML document with its script inline, no build step and no
 * outside resources. It reads `<path>/events` (SSE, one snapshot a second, the figures
 * of `/metrics`) and draws rates, quantiles and sparklines of the last five minutes.
 */
export function statusPage(title: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)} · status</title>
<style>
:root{--bg:#0f1419;--fg:#e6e1cf;--dim:#8a919a;--ok:#7fd962;--warn:#ffb454;--bad:#f07178;--acc:#59c2ff;--line:#232a31}
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;gap:24px;align-items:baseline;padding:14px 20px;border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0}h2{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--dim);margin:18px 0 8px}
main{padding:0 20px 20px;max-width:1100px}.dim{color:var(--dim)}.num{font-variant-numeric:tabular-nums;text-align:right}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:12px;margin-top:16px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px}.card .big{font-size:26px;font-variant-numeric:tabular-nums}
svg{display:block;width:100%;height:48px}table{border-collapse:collapse;width:100%}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);white-space:nowrap}th{text-align:left;color:var(--dim);font-weight:500}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:6px;background:var(--ok)}.dot.down{background:var(--bad)}
.bar{display:inline-block;height:8px;background:var(--acc);border-radius:2px;vertical-align:middle;margin-left:6px}
#conn.off{color:var(--bad)}.warn{color:var(--warn)}
</style></head><body>
<header><h1>${escapeHtml(title)}</h1><span class="dim">live status</span><span id="conn" class="dim">connecting…</span></header>
<main>
<div class="cards">
 <div class="card"><div class="dim">requests/s</div><div class="big" id="rps">–</div><svg id="spark-rps" viewBox="0 0 300 48" preserveAspectRatio="none"></svg></div>
 <div class="card"><div class="dim">p99 latency</div><div class="big" id="p99">–</div><svg id="spark-p99" viewBox="0 0 300 48" preserveAspectRatio="none"></svg></div>
 <div class="card"><div class="dim">requests served</div><div class="big" id="total-requests">0</div><div class="dim" id="extra"></div></div>
</div>
<h2>Processes</h2>
<table><thead><tr><th>process</th><th>role</th><th>state</th><th class="num">pending</th><th class="num">in flight</th><th class="num">loop lag p99</th><th class="num">loop lag max</th></tr></thead><tbody id="processes"></tbody></table>
<h2>Routes</h2>
<table><thead><tr><th>route</th><th class="num">req/s</th><th class="num">p50</th><th class="num">p99</th><th class="num">errors</th><th class="num">total</th></tr></thead><tbody id="routes"></tbody></table>
</main>
<script>
"use strict";
const WINDOW = 300, history = [];
let prev = null;
const $ = (id) => document.getElementById(id);
const ms = (s) => s == null || s < 0 ? '–' : s < 0.001 ? (s * 1e3).toFixed(2) + ' ms' : s < 1 ? (s * 1e3).toFixed(1) + ' ms' : s.toFixed(2) + ' s';
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
function quantile(le, counts, q) {
  const total = counts[counts.length - 1] || 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] >= rank) {
      const hi = le[i] < 0 ? (le[i - 1] || 0) : le[i], lo = i ? le[i - 1] : 0, below = i ? counts[i - 1] : 0, inBucket = counts[i] - below;
      return inBucket > 0 ? lo + (hi - lo) * (rank - below) / inBucket : hi;
    }
  }
  return null;
}
function diff(a, b) { return a.map((x, i) => x - ((b && b[i]) || 0)); }
function spark(svg, values, color) {
  // The last five minutes at most; a shorter history fills the width from the right once it has a minute.
  const max = Math.max(...values, 1e-9), n = values.length, slots = Math.max(60, n);
  const pts = values.map((v, i) => ((slots - n + i) * 300 / (slots - 1)).toFixed(1) + ',' + (46 - 44 * v / max).toFixed(1)).join(' ');
  svg.innerHTML = '<polyline fill="none" stroke="' + color + '" stroke-width="1.5" points="' + pts + '"/>';
}
function render(s) {
  const dt = prev ? (s.t - prev.t) / 1000 : 0;
  const before = new Map(prev ? prev.routes.map((r) => [r.route, r]) : []);
  let total = 0, rate = 0, all = new Array(s.le.length).fill(0);
  const rows = s.routes.map((r) => {
    const p = before.get(r.route);
    const d = p ? r.count - p.count : 0, e = p ? r.errors - p.errors : 0, b = p ? diff(r.buckets, p.buckets) : r.buckets.map(() => 0);
    total += r.count; const rps = dt > 0 ? d / dt : 0; rate += rps;
    b.forEach((x, i) => all[i] += x);
    return { r, rps, p50: quantile(s.le, b, 0.5), p99: quantile(s.le, b, 0.99), err: d > 0 ? e / d : 0 };
  });
  const maxRps = Math.max(1, ...rows.map((x) => x.rps));
  $('routes').innerHTML = rows.map((x) => '<tr><td>' + esc(x.r.route) + '</td><td class="num">' + x.rps.toFixed(1) + '<span class="bar" style="width:' + (60 * x.rps / maxRps).toFixed(0) + 'px"></span></td><td class="num">' + ms(x.p50) + '</td><td class="num">' + ms(x.p99) + '</td><td class="num">' + (100 * x.err).toFixed(1) + ' %</td><td class="num">' + x.r.count + '</td></tr>').join('');
  $('processes').innerHTML = s.processes.map((p) => '<tr><td><span class="dot' + (p.connected ? '' : ' down') + '"></span>' + esc(p.name) + '</td><td>' + p.role + '</td><td class="' + (p.state === 'up' ? 'dim' : 'warn') + '">' + (p.state === 'up' ? 'up' : 'not answering (event loop busy?)') + '</td><td class="num">' + (p.pending < 0 ? '–' : p.pending) + '</td><td class="num">' + (p.role === 'engine' ? '–' : p.inFlight) + '</td><td class="num">' + ms(p.lagP99) + '</td><td class="num">' + ms(p.lagMax) + '</td></tr>').join('');
  const p99 = quantile(s.le, all, 0.99);
  if (prev) { history.push({ rps: rate, p99: p99 || 0 }); if (history.length > WINDOW) history.shift(); }
  $('rps').textContent = rate.toFixed(1);
  $('p99').textContent = ms(p99);
  $('total-requests').textContent = String(total);
  const sup = s.supervisor, rej = Object.entries(s.rejections).map(([k, v]) => k + ' ' + v).join(', ');
  $('extra').textContent = (sup ? 'workers ' + sup.workersUp + '/' + sup.configured + ' · restarts ' + sup.restarts + ' · recycles ' + sup.recycles : 'direct mode') + ' · streams ' + s.streams.open + (rej ? ' · refused: ' + rej : '');
  spark($('spark-rps'), history.map((h) => h.rps), '#59c2ff');
  spark($('spark-p99'), history.map((h) => h.p99), '#ffb454');
  prev = s;
}
const events = new EventSource(location.pathname.replace(/\\/$/, '') + '/events' + location.search);
events.onopen = () => { $('conn').textContent = 'live'; $('conn').className = 'dim'; };
events.onerror = () => { $('conn').textContent = 'reconnecting…'; $('conn').className = 'off'; };
events.onmessage = (m) => render(JSON.parse(m.data));
</script></body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
