// Benchmarks of the real desktop app (not part of `make test`: they measure, never assert on a
// time), run by scripts/bench-app.sh inside a private D-Bus session with an unlocked keyring and
// under Xvfb, through tauri-driver and WebKitWebDriver like the e2e test, with the same WebDriver
// client (ui/e2e/driver.mjs):
//
// 1. Cold start of the release app, side by side and alternating in one run: to the cached list of
//    5 accounts / 1,000 credentials visible (the first credential row in the DOM), against the same
//    app with no account (the Welcome screen in the DOM). Timed from the WebDriver "new session"
//    (which launches the app) to the element's presence; medians, the ratio; then the resident
//    memory (VmRSS, and PSS) of keyward-app and of its WebKitWebProcess after the start settled.
// 2. Scrolling 5,000 credentials of one account in the real window: scrollTop driven from a
//    requestAnimationFrame loop for a few seconds at a steady speed; frames per second and the
//    slowest frame interval; and the same loop with the list left still (the window's own frame
//    rate, the baseline).
//
// The accounts are real store entries made by the release CLI against tiny canned Matrix servers
// (scripts/bench/matrix_canned.py), which are stopped before the app starts: the app shows the
// saved listings at once, and its refresh fails fast (connection refused) and leaves them shown.
//
// Prints a Markdown table to stdout and writes everything measured as JSON to BENCH_OUT.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Driver as WebDriver, descendants, sleep } from './driver.mjs';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through scripts/bench-app.sh)`);
  return v;
};
const APP = env('KEYWARD_BENCH_APP');
const DRIVER = env('KEYWARD_BENCH_TAURI_DRIVER');
const CLI = env('KEYWARD_BENCH_CLI');
const CANNED = env('KEYWARD_BENCH_CANNED');
const WORK = env('KEYWARD_BENCH_WORK');
const LOGS = `${WORK}/logs`;
const OUT = process.env.BENCH_OUT ?? `${WORK}/bench-app.json`;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000);
const SCROLL_MS = Number(process.env.BENCH_SCROLL_MS ?? 3000);
// BENCH_ONLY=scroll: only the scrolling passes (for trying a change to the list).
const SCROLL_ONLY = process.env.BENCH_ONLY === 'scroll';
// BENCH_CSS='["css", …]': style sheets to try on the list without a rebuild; every scrolling pass
// then runs once as built and once with each sheet added, alternating in the same window.
const TRY_CSS = JSON.parse(process.env.BENCH_CSS ?? '[]');
const SPEEDS = (process.env.BENCH_SPEEDS ?? '0,3000,20000').split(',').map(Number);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------- WebDriver (./driver.mjs, shared with the e2e test) ----------

const newDriver = (extraEnv) => new WebDriver({ app: APP, tauriDriver: DRIVER, logs: LOGS }, extraEnv);

// ---------- memory, from /proc ----------

/** The program a process runs: its argv[0]'s file name (status' Name is cut at 15 characters). */
function programOf(pid) {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    return argv0.split('/').pop();
  } catch {
    return '';
  }
}

/** kB of a field of /proc/<pid>/status or smaps_rollup (VmRSS, Pss). */
function kB(pid, file, field) {
  const m = readFileSync(`/proc/${pid}/${file}`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) : NaN;
}

/** Resident memory of keyward-app and the WebKit processes under this driver's tree. */
function memoryOf(driver) {
  const procs = descendants(driver.proc.pid).map((pid) => ({ pid, program: programOf(pid) }));
  const pick = (name) => procs.filter((p) => p.program === name);
  const sum = (list, file, field) => list.reduce((a, p) => a + kB(p.pid, file, field), 0);
  const app = pick('keyward-app');
  const web = pick('WebKitWebProcess');
  const net = pick('WebKitNetworkProcess');
  if (app.length !== 1) throw new Error(`expected one keyward-app below tauri-driver, found ${JSON.stringify(procs)}`);
  if (web.length < 1) throw new Error(`no WebKitWebProcess below tauri-driver: ${JSON.stringify(procs)}`);
  return {
    app_rss_kb: sum(app, 'status', 'VmRSS'),
    app_pss_kb: sum(app, 'smaps_rollup', 'Pss'),
    web_rss_kb: sum(web, 'status', 'VmRSS'),
    web_pss_kb: sum(web, 'smaps_rollup', 'Pss'),
    web_processes: web.length,
    network_rss_kb: sum(net, 'status', 'VmRSS'),
    network_pss_kb: sum(net, 'smaps_rollup', 'Pss'),
  };
}

// ---------- seeding the stores through the release CLI ----------

async function cannedServer(devices) {
  const dir = mkdtempSync(`${WORK}/srv-`);
  const portFile = `${dir}/port`;
  const proc = spawn('python3', [CANNED, portFile, '--users', '1', '--devices', String(devices)], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !existsSync(portFile); i++) await sleep(50);
  if (!existsSync(portFile)) throw new Error('the canned server did not start');
  return { proc, url: `http://127.0.0.1:${readFileSync(portFile, 'utf8').trim()}` };
}

function cli(config, args, input) {
  const r = spawnSync(CLI, args, { input, encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, KEYWARD_CONFIG_DIR: config } });
  if (r.status !== 0) throw new Error(`keyward ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error}): ${r.stderr}`);
  return r.stdout;
}

/** A config dir with one Matrix account per entry of `devicesPerAccount` (each on its own canned
 *  server), listed once so the listing is saved; then the servers are stopped. */
async function seed(name, devicesPerAccount) {
  const config = `${WORK}/${name}`;
  mkdirSync(config, { recursive: true });
  const servers = [];
  try {
    for (const n of devicesPerAccount) {
      const s = await cannedServer(n);
      servers.push(s);
      cli(config, ['add', s.url, '--user', 'bench0', '--token-stdin'], 'tok-0\n');
    }
    const rows = JSON.parse(cli(config, ['list', '--json']));
    const accounts = JSON.parse(cli(config, ['accounts', '--json']));
    return { config, accounts: accounts.length, credentials: rows.length };
  } finally {
    for (const s of servers) s.proc.kill('SIGTERM');
  }
}

// ---------- 1. cold start ----------

const FIRST_ROW = '[data-testid="credential-row"]';
const WELCOME = '[data-testid="welcome"]';

async function coldStart(config, selector) {
  const d = newDriver({ KEYWARD_CONFIG_DIR: config });
  try {
    await d.startDriver();
    const t0 = performance.now();
    await d.createSession();
    const tSession = performance.now();
    await d.waitFor(selector, 60000, 10);
    const tShown = performance.now();
    await sleep(SETTLE_MS);
    const mem = memoryOf(d);
    const page = await d.exec(
      'const n = performance.getEntriesByType("navigation")[0]; return { rows: document.querySelectorAll(arguments[0]).length, welcome: !!document.querySelector(arguments[1]), dom_content_loaded_ms: n ? n.domContentLoadedEventEnd : null }',
      [FIRST_ROW, WELCOME],
    );
    return { shown_ms: tShown - t0, session_ms: tSession - t0, ...page, ...mem };
  } finally {
    await d.stop();
  }
}

// ---------- 2. scrolling ----------

const SCROLL_SCRIPT = `
const done = arguments[arguments.length - 1];
const [speed, duration] = arguments;
const list = document.querySelector('[data-testid=credential-list]');
const max = list.scrollHeight - list.clientHeight;
if (!(max > 10000) && speed > 0) { done({ error: 'the list does not scroll: ' + max }); return; }
list.scrollTop = 0;
// The script time each scroll costs: from the scroll event (a capture listener on the document runs
// first) to a microtask queued after the list's own handler, that is after Svelte has re-rendered
// the rows in view. The rest of a frame is WebKit's style, layout and (software) painting.
const script = [];
let t0 = 0;
const scrollStart = () => { t0 = performance.now(); };
const scrollEnd = () => queueMicrotask(() => script.push(performance.now() - t0));
document.addEventListener('scroll', scrollStart, true);
list.addEventListener('scroll', scrollEnd);
const seen = new Set();
const intervals = [];
let start = null, prev = null, pos = 0, dir = 1, travelled = 0;
function frame(ts) {
  if (start === null) { start = prev = ts; requestAnimationFrame(frame); return; }
  intervals.push(ts - prev);
  const step = speed * (ts - prev) / 1000;
  prev = ts;
  travelled += step;
  pos += dir * step;
  if (pos >= max) { pos = max; dir = -1; }
  if (pos <= 0) { pos = 0; dir = 1; }
  list.scrollTop = pos;
  const first = list.querySelector('[data-testid=credential-row]');
  if (first) seen.add(first.getAttribute('data-cred-id'));
  if (ts - start < duration) requestAnimationFrame(frame);
  else {
    document.removeEventListener('scroll', scrollStart, true);
    list.removeEventListener('scroll', scrollEnd);
    script.sort((a, b) => a - b);
    done({ script_median_ms: script.length ? script[script.length >> 1] : null, script_max_ms: script.length ? script[script.length - 1] : null, scroll_events: script.length, frames: intervals.length, elapsed_ms: ts - start, intervals, travelled_px: travelled, scroll_height_px: list.scrollHeight,
              view_px: list.clientHeight, rows_in_dom: list.querySelectorAll('[data-testid=credential-row]').length, first_rows_seen: seen.size });
  }
}
requestAnimationFrame(() => requestAnimationFrame(frame));
`;

async function scrolling(config, credentials) {
  const d = newDriver({ KEYWARD_CONFIG_DIR: config });
  const out = [];
  try {
    await d.startDriver();
    await d.createSession();
    await d.waitFor(FIRST_ROW, 60000, 10);
    await sleep(SETTLE_MS);
    // 0: the same loop with the list left still, the frame rate of the window itself (the baseline).
    const useCss = (css) =>
      d.exec(
        'let s = document.getElementById("bench-css"); if (!arguments[0]) { s?.remove(); return; } if (!s) { s = document.createElement("style"); s.id = "bench-css"; document.head.append(s); } s.textContent = arguments[0];',
        [css],
      );
    for (const speed of SPEEDS) {
      for (let i = 0; i < 3; i++) for (const css of [null, ...TRY_CSS]) {
        await useCss(css);
        await sleep(300);
        const r = await d.execAsync(SCROLL_SCRIPT, [speed, SCROLL_MS]);
        if (r.error) throw new Error(r.error);
        const { intervals, ...rest } = r;
        const sorted = [...intervals].sort((a, b) => a - b);
        out.push({
          speed_px_s: speed,
          ...(css ? { css } : {}),
          credentials,
          fps: (r.frames / r.elapsed_ms) * 1000,
          slowest_ms: sorted[sorted.length - 1],
          p95_ms: sorted[Math.floor(sorted.length * 0.95)],
          median_ms: median(intervals),
          over_33ms: intervals.filter((x) => x > 33.4).length,
          ...rest,
        });
        await sleep(500);
      }
    }
    return out;
  } finally {
    await d.stop();
  }
}

// ---------- the run ----------

const mb = (k) => `${(k / 1024).toFixed(0)} MB`;
const ms = (x) => `${x.toFixed(0)} ms`;

async function main() {
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const loadBefore = load();
  // 5 accounts with 200 credentials each (one of them Keyward's own device); 1 with 5,000.
  const full = SCROLL_ONLY ? null : await seed('full', [200, 200, 200, 200, 200]);
  const big = await seed('big', [5000]);
  const empty = { config: `${WORK}/empty`, accounts: 0, credentials: 0 };
  mkdirSync(empty.config, { recursive: true });
  process.stderr.write(`seeded: ${JSON.stringify({ full, big })}\n`);

  const runs = { full: [], empty: [] };
  if (!SCROLL_ONLY) {
    // One start of each side first, not counted (the page cache, WebKit's caches, the window state).
    await coldStart(full.config, FIRST_ROW);
    await coldStart(empty.config, WELCOME);
  }
  for (let i = 0; i < (SCROLL_ONLY ? 0 : RUNS); i++) {
    // Alternating, and the order swapped every run (ABBA), so drift in the load hits both sides.
    const order = i % 2 ? ['empty', 'full'] : ['full', 'empty'];
    for (const side of order) {
      const r = side === 'full' ? await coldStart(full.config, FIRST_ROW) : await coldStart(empty.config, WELCOME);
      if (side === 'full' && !(r.rows > 0 && !r.welcome)) throw new Error(`the cached rows were not shown: ${JSON.stringify(r)}`);
      if (side === 'empty' && !(r.welcome && r.rows === 0)) throw new Error(`the welcome was not shown: ${JSON.stringify(r)}`);
      runs[side].push(r);
      process.stderr.write(`${side} #${i + 1}: ${JSON.stringify(r)}\n`);
    }
  }
  const scroll = await scrolling(big.config, big.credentials);
  for (const s of scroll) process.stderr.write(`scroll: ${JSON.stringify(s)}\n`);
  const loadAfter = load();

  const med = (side, key) => median(runs[side].map((r) => r[key]));
  const result = {
    seeded: { full, big },
    runs,
    scroll,
    load_before: loadBefore,
    load_after: loadAfter,
    medians: Object.fromEntries(
      ['full', 'empty'].map((side) => [side, Object.fromEntries(['shown_ms', 'session_ms', 'app_rss_kb', 'app_pss_kb', 'web_rss_kb', 'web_pss_kb', 'network_rss_kb'].map((k) => [k, med(side, k)]))]),
    ),
  };
  writeFileSync(OUT, JSON.stringify(result, null, 2));

  const f = result.medians.full;
  const e = result.medians.empty;
  console.log(`load average ${loadBefore} before, ${loadAfter} after`);
  console.log('');
  if (!SCROLL_ONLY) printStarts(full, f, e);
  console.log(`| scrolling ${big.credentials} credentials, ${SCROLL_MS / 1000} s per pass | FPS | slowest frame | 95th percentile | frames > 33 ms | script per scroll (median / max) |`);
  console.log('|---|---|---|---|---|---|');
  for (const s of scroll) {
    console.log(`| ${s.speed_px_s ? `${s.speed_px_s.toLocaleString('en')} px/s` : 'not scrolling (baseline)'}${s.css ? ` with \`${s.css}\`` : ''} (${s.first_rows_seen} different first rows, ${s.rows_in_dom} rows in the DOM) | ${s.fps.toFixed(1)} | ${ms(s.slowest_ms)} | ${s.p95_ms.toFixed(1)} ms | ${s.over_33ms} of ${s.frames} | ${s.scroll_events ? `${s.script_median_ms.toFixed(1)} / ${s.script_max_ms.toFixed(1)} ms (${s.scroll_events} events)` : '–'} |`);
  }
}

function printStarts(full, f, e) {
  console.log(`| cold start, release app (${RUNS} runs each, alternating, medians) | ${full.accounts} accounts / ${full.credentials} credentials cached | no account (Welcome) | ratio |`);
  console.log('|---|---|---|---|');
  console.log(`| new session → element present | ${ms(f.shown_ms)} | ${ms(e.shown_ms)} | **${(f.shown_ms / e.shown_ms).toFixed(2)}×** |`);
  console.log(`| of which the new session (launch, web view connected) | ${ms(f.session_ms)} | ${ms(e.session_ms)} | ${(f.session_ms / e.session_ms).toFixed(2)}× |`);
  console.log(`| keyward-app VmRSS (PSS), ${SETTLE_MS / 1000} s after | ${mb(f.app_rss_kb)} (${mb(f.app_pss_kb)}) | ${mb(e.app_rss_kb)} (${mb(e.app_pss_kb)}) | ${(f.app_rss_kb / e.app_rss_kb).toFixed(2)}× |`);
  console.log(`| WebKitWebProcess VmRSS (PSS) | ${mb(f.web_rss_kb)} (${mb(f.web_pss_kb)}) | ${mb(e.web_rss_kb)} (${mb(e.web_pss_kb)}) | ${(f.web_rss_kb / e.web_rss_kb).toFixed(2)}× |`);
  console.log(`| WebKitNetworkProcess VmRSS | ${mb(f.network_rss_kb)} | ${mb(e.network_rss_kb)} | |`);
  console.log('');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
