// The WebDriver client of the desktop app's end-to-end test (ui/e2e/app.e2e.mjs) and benchmarks
// (ui/e2e/bench.mjs): plain W3C WebDriver calls to tauri-driver, which launches the app through
// WebKitWebDriver; and the process helpers both need to find and stop what it started.
//
//   const d = new Driver({ app, tauriDriver, logs, docs }, extraEnv);
//   await d.start();            // tauri-driver, then the "new session" that launches the app
//   ... await d.stop();         // the session, tauri-driver, WebKitWebDriver and the app
//
// d.startDriver() and d.createSession() are the two halves of start(), for timing the second.

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';

export const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export class Driver {
  /** `where`: the app's binary (app), tauri-driver's (tauriDriver), the directory for its logs
   *  (logs) and for screenshots (docs); `extraEnv`: set for tauri-driver and so for the app. */
  constructor(where, extraEnv = {}) {
    this.where = where;
    this.extraEnv = extraEnv;
  }

  async start() {
    await this.startDriver();
    await this.createSession();
  }

  /** tauri-driver up and answering; the app is not launched yet. */
  async startDriver() {
    this.port = await freePort();
    this.nativePort = await freePort();
    for (const p of [this.port, this.nativePort]) {
      if (!(await portFree(p))) throw new Error(`port ${p} is taken`);
    }
    // Its own process group and a log file: the app it launches must not inherit the test
    // runner's pipes, and everything it started can be stopped by that group's id.
    mkdirSync(this.where.logs, { recursive: true });
    const log = openSync(`${this.where.logs}/tauri-driver-${this.port}.log`, 'a');
    this.proc = spawn(this.where.tauriDriver, ['--port', String(this.port), '--native-port', String(this.nativePort)], {
      env: { ...process.env, ...this.extraEnv },
      stdio: ['ignore', log, log],
      detached: true,
    });
    closeSync(log);
    this.base = `http://127.0.0.1:${this.port}`;
    const deadline = Date.now() + 30000;
    for (;;) {
      try {
        const r = await fetch(`${this.base}/status`, { signal: AbortSignal.timeout(2000) });
        if (r.ok) break;
      } catch {}
      if (this.proc.exitCode !== null) throw new Error(`tauri-driver exited with ${this.proc.exitCode}`);
      if (Date.now() > deadline) throw new Error('tauri-driver did not start');
      await sleep(100);
    }
  }

  /** The WebDriver "new session": launches the app and connects to its web view. */
  async createSession() {
    const s = await this.raw('POST', '/session', {
      capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application: this.where.app } } },
    }, 90000);
    this.session = s.sessionId;
  }

  async raw(method, path, body, timeout = 30000) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeout),
    });
    const json = await res.json();
    if (!res.ok || json.value?.error) {
      const err = new Error(`${method} ${path}: ${json.value?.error} ${json.value?.message ?? ''}`);
      err.code = json.value?.error;
      throw err;
    }
    return json.value;
  }

  cmd(method, path, body, timeout) {
    return this.raw(method, `/session/${this.session}${path}`, body, timeout);
  }

  async find(css) {
    const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return v[ELEMENT];
  }

  async findAll(css) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return v.map((e) => e[ELEMENT]);
  }

  /** The first element matching css, polled every `every` ms (tight, for timing) until it is there. */
  async waitFor(css, timeout = 30000, every = 200) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = await this.findAll(css);
      if (found.length) return found[0];
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${css}`);
      await sleep(every);
    }
  }

  /** Waits until fn() returns true; anything else it returns (or throws) is reported on timeout. */
  async until(what, fn, timeout = 30000) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        last = await fn();
        if (last === true) return last;
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
      await sleep(250);
    }
  }

  click(el) {
    return this.cmd('POST', `/element/${el}/click`, {});
  }
  type(el, text) {
    return this.cmd('POST', `/element/${el}/value`, { text });
  }
  clear(el) {
    return this.cmd('POST', `/element/${el}/clear`, {});
  }
  text(el) {
    return this.cmd('GET', `/element/${el}/text`);
  }
  /** The text of the first element matching css (the DOM's, as WebKitWebDriver's "element text"
   *  comes back empty inside the virtualised list), or null when there is none. */
  textOf(css) {
    return this.exec('const e = document.querySelector(arguments[0]); return e ? e.textContent : null', [css]);
  }
  exec(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }
  execAsync(script, args = [], timeout = 60000) {
    return this.cmd('POST', '/execute/async', { script, args }, timeout);
  }

  async screenshot(file, dir = this.where.docs) {
    // Screenshots lag behind the DOM: two animation frames, then half a second.
    await this.cmd('POST', '/execute/async', {
      script: 'const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));',
      args: [],
    });
    await sleep(600);
    const b64 = await this.cmd('GET', '/screenshot', undefined, 60000);
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/${file}`, Buffer.from(b64, 'base64'));
  }

  async stop() {
    if (this.session) {
      try {
        await this.raw('DELETE', `/session/${this.session}`, undefined, 15000);
      } catch {}
      this.session = null;
    }
    if (!this.proc) return;
    // tauri-driver, WebKitWebDriver and the app, by the ids of what this driver started.
    const pids = [this.proc.pid, ...descendants(this.proc.pid)];
    const signal = (sig) => {
      try {
        process.kill(-this.proc.pid, sig);
      } catch {}
      for (const pid of pids) {
        try {
          process.kill(pid, sig);
        } catch {}
      }
    };
    signal('SIGTERM');
    for (let i = 0; i < 40 && pids.some(alive); i++) await sleep(250);
    if (pids.some(alive)) signal('SIGKILL');
    for (let i = 0; i < 40 && pids.some(alive); i++) await sleep(250);
    this.proc = null;
  }
}

/** Every process below `pid`, from /proc. */
export function descendants(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {}
  }
  const out = [];
  const todo = [pid];
  while (todo.length) {
    for (const c of children.get(todo.pop()) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

/** Whether `pid` runs (and is no zombie). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
