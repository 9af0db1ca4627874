// End-to-end test of the real desktop app: the built keyward-app in a WebKitGTK window under Xvfb,
// driven through tauri-driver and WebKitWebDriver with plain W3C WebDriver calls, against a real
// Synapse. Run by scripts/e2e.sh, which sets up the display, the D-Bus session and a fresh keyring.
//
// It adds the account through the UI, checks the seeded devices and their summary lines, renames
// one and revokes one with the password (checking both on the server), checks that a hostile
// device name renders as isolated text that breaks no layout, that the web view can open no page
// but its accounts' servers', that nothing the app receives names a CLI flag, that a second launch
// leaves the first alone, that screen-share-safe mode leaves no address or id in the DOM or the
// report and survives a restart, and takes the screenshots in docs/. Then, after every screenshot,
// the steps that empty the window: it labels the account, signs out all other sessions, and
// removes the account with Keyward's own session, checking each on the server. Last, it adds
// accounts of every installable kind (and the simulated Moodle) through the CLI, which shares the
// app's store and keyring, and takes the README's screenshot of them in one window.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { Driver as WebDriver, ELEMENT, alive, descendants, sleep } from './driver.mjs';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through scripts/e2e.sh)`);
  return v;
};
const SYNAPSE = env('KEYWARD_TEST_SYNAPSE_URL').replace(/\/$/, '');
const SECRET = env('KEYWARD_TEST_SYNAPSE_SECRET');
const APP = env('KEYWARD_E2E_APP');
const DRIVER = env('KEYWARD_E2E_TAURI_DRIVER');
const DOCS = env('KEYWARD_E2E_DOCS');
const LOGS = env('KEYWARD_E2E_LOGS');
const CLI = env('KEYWARD_E2E_CLI');
const MOODLE_SIM = env('KEYWARD_E2E_MOODLE_SIM');
// Screenshots for looking at, not for docs/ (200% zoom, the account heading): with the logs, or
// in KEYWARD_E2E_SHOTS when set.
const SHOTS = process.env.KEYWARD_E2E_SHOTS ?? LOGS;
// Markup, a right-to-left override and a long unbroken run: shown as text, isolated, cut on one line.
const HOSTILE = `<img src=x onerror=alert(1)>\u202E${'W'.repeat(64)}`;

const user = `e2e${randomBytes(4).toString('hex')}`;
const password = `pw-${randomBytes(8).toString('hex')}`;
const seeded = {}; // display name -> { device_id, access_token }

// ---------- Synapse, through its client API ----------

async function http(method, url, { body, token, ip, ua, timeout = 20000 } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (ip) headers['x-forwarded-for'] = ip;
  if (ua) headers['user-agent'] = ua;
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeout),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, json, text };
}

async function registerUser(name = user, pass = password, admin = false) {
  const url = `${SYNAPSE}/_synapse/admin/v1/register`;
  const { json } = await http('GET', url);
  const mac = createHmac('sha1', SECRET)
    .update(`${json.nonce}\0${name}\0${pass}\0${admin ? 'admin' : 'notadmin'}`)
    .digest('hex');
  const r = await http('POST', url, { body: { nonce: json.nonce, username: name, password: pass, admin, mac } });
  assert.equal(r.status, 200, `register: ${r.text}`);
  // Registering signs in once: end that session, so the account has only the devices seeded here.
  await http('POST', `${SYNAPSE}/_matrix/client/v3/logout`, { token: r.json.access_token, body: {} });
}

async function login(name, ip) {
  const r = await http('POST', `${SYNAPSE}/_matrix/client/v3/login`, {
    ip,
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user },
      password,
      initial_device_display_name: name,
    },
  });
  assert.equal(r.status, 200, `login: ${r.text}`);
  return r;
}

async function seedDevice(name, ip) {
  const r = await login(name, ip);
  // One authenticated request so the server records when and from where it was last seen.
  await http('GET', `${SYNAPSE}/_matrix/client/v3/account/whoami`, { token: r.json.access_token, ip });
  seeded[name] = { device_id: r.json.device_id, access_token: r.json.access_token };
}

async function serverDevices() {
  const token = seeded['Element Desktop: macOS'].access_token;
  const r = await http('GET', `${SYNAPSE}/_matrix/client/v3/devices`, { token, ip: '203.0.113.7' });
  assert.equal(r.status, 200, r.text);
  return r.json.devices;
}

/** The account's devices as the server lists them to a sign-in of the test's own, which is ended
 *  again at once and left out (for when the seeded sessions may have been signed out). */
async function serverDevicesSeenFresh() {
  const r = await login('e2e check', '203.0.113.200');
  try {
    const list = await http('GET', `${SYNAPSE}/_matrix/client/v3/devices`, { token: r.json.access_token });
    assert.equal(list.status, 200, list.text);
    return list.json.devices.filter((x) => x.device_id !== r.json.device_id);
  } finally {
    await http('POST', `${SYNAPSE}/_matrix/client/v3/logout`, { token: r.json.access_token, body: {} });
  }
}

// ---------- WebDriver (./driver.mjs) ----------

const newDriver = (extraEnv) => new WebDriver({ app: APP, tauriDriver: DRIVER, logs: LOGS, docs: DOCS }, extraEnv);

async function rowOf(d, deviceName) {
  const id = seeded[deviceName].device_id;
  return d.waitFor(`[data-testid="credential-row"][data-cred-id="${id}"]`);
}

async function noAlertOpen(d) {
  try {
    await d.cmd('GET', '/alert/text');
    return false;
  } catch (e) {
    return e.code === 'no such alert';
  }
}

// ---------- the test ----------

let d = null;
after(async () => {
  if (d) await d.stop();
});

test('seed a real Synapse with devices', async () => {
  await registerUser();
  await seedDevice('Element Desktop: macOS', '203.0.113.7');
  await seedDevice('app.element.io: Firefox on Linux', '198.51.100.23');
  await seedDevice('Element X on Pixel 8', '192.0.2.44');
  await seedDevice(HOSTILE, '203.0.113.99');
  assert.equal((await serverDevices()).length, 4);
});

test('add the account through the UI and see every device with its summary', async () => {
  d = newDriver({});
  await d.start();
  await d.waitFor('[data-testid="welcome-add"]');
  await d.until('the welcome names the kinds', async () => /Matrix/.test((await d.textOf('[data-testid="welcome-text"]')) ?? ''));
  const welcome = await d.textOf('[data-testid="welcome-text"]');
  for (const kind of ['Matrix', 'JupyterHub', 'Home Assistant', 'WordPress', 'Moodle']) assert.ok(welcome.includes(kind), `the welcome names ${kind}: ${welcome}`);
  await d.click(await d.waitFor('[data-testid="welcome-add"]'));
  await d.type(await d.waitFor('[data-testid="add-url"]'), SYNAPSE);
  await d.click(await d.find('[data-testid="add-continue"]'));
  await d.type(await d.waitFor('[data-testid="add-login"]'), user);
  await d.type(await d.find('[data-testid="add-secret"]'), password);
  await d.click(await d.find('[data-testid="add-submit"]'));

  for (const name of Object.keys(seeded)) await rowOf(d, name);
  // Keyward's own session is listed too, and marked.
  await d.until('five rows', async () => (await d.findAll('[data-testid="credential-row"]')).length === 5);
  const own = await d.exec(
    'return [...document.querySelectorAll("[data-testid=credential-row]")].filter(r => r.textContent.includes("This app")).length',
  );
  assert.equal(own, 1, 'exactly one row is marked This app');

  const summary = await d.textOf(`[data-cred-id="${seeded['Element Desktop: macOS'].device_id}"] [data-testid="credential-summary"]`);
  assert.match(summary, /203\.0\.113\.7/);
  assert.match(summary, /active/);
  const firefox = await d.textOf(`[data-cred-id="${seeded['app.element.io: Firefox on Linux'].device_id}"] [data-testid="credential-summary"]`);
  assert.match(firefox, /198\.51\.100\.23/);
});

test('a hostile device name renders as text and runs nothing', async () => {
  const row = await rowOf(d, HOSTILE);
  const nameEl = await d.exec('return arguments[0].querySelector("[data-testid=credential-name]").textContent', [{ [ELEMENT]: row }]);
  assert.equal(nameEl, HOSTILE);
  assert.equal(await d.exec('return document.querySelectorAll("img[src=x]").length'), 0);
  assert.ok(await noAlertOpen(d), 'no alert was opened');
});

test('a long hostile name is cut on one line, isolated, and moves nothing sideways', async () => {
  const row = await rowOf(d, HOSTILE);
  await d.click(row);
  await d.waitFor('[data-testid="details-title"]');
  const layout = await d.exec(`
    const name = arguments[0].querySelector('[data-testid=credential-name]');
    const list = document.querySelector('[data-testid=credential-list]').getBoundingClientRect();
    const box = name.getBoundingClientRect();
    return {
      cut: name.scrollWidth > name.clientWidth,
      inside: box.right <= list.right + 1,
      oneLine: box.height < 30,
      isolated: !!name.querySelector('bdi') && name.getAttribute('dir') === 'auto',
      overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      details: document.querySelector('[data-testid=details-title] bdi').textContent,
      summary: arguments[0].querySelector('[data-testid=credential-summary]').textContent,
    };
  `, [{ [ELEMENT]: row }]);
  const { details, summary, ...box } = layout;
  assert.deepEqual(box, { cut: true, inside: true, oneLine: true, isolated: true, overflow: 0 }, JSON.stringify(layout));
  assert.equal(details, HOSTILE, 'the details pane has the whole name');
  assert.ok(!/[\u202A-\u202E\u2066-\u2069]/.test(summary), `the line under it carries no bidi control: ${JSON.stringify(summary)}`);
  assert.match(summary, /active just now · 203\.0\.113\.99/, 'the words after the name read in order');
});

test('the web view opens no page but its accounts’ servers’, and cannot use the opener itself', async () => {
  const call = (cmd, args) =>
    d.cmd('POST', '/execute/async', {
      script: `const done = arguments[arguments.length - 1];
        window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then(() => done({ ok: true }), (e) => done({ ok: false, e: typeof e === 'string' ? e : JSON.stringify(e) }));`,
      args: [cmd, args],
    });
  const elsewhere = await call('open_page', { url: 'https://evil.example/phish' });
  assert.equal(elsewhere.ok, false);
  assert.match(elsewhere.e, /only pages of your accounts' servers/);
  const direct = await call('plugin:opener|open_url', { url: 'https://evil.example/' });
  assert.equal(direct.ok, false, 'the opener plugin is not callable from the web view');
});

test('nothing the app receives names a CLI flag', async () => {
  const call = (cmd, args) =>
    d.cmd('POST', '/execute/async', {
      script: `const done = arguments[arguments.length - 1];
        window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then((v) => done(JSON.stringify(v)), (e) => done(JSON.stringify(e)));`,
      args: [cmd, args],
    }, 60000);
  const accountId = await d.exec('return document.querySelector("[data-testid=credential-row]").dataset.accountId');
  const received = [
    await call('accounts', {}),
    await call('refresh_account', { accountId }),
    await call('kinds', {}),
    // Errors: a revoke without the password the server needs, an unknown account, a bad address.
    await call('revoke', { request: { account_id: accountId, ids: [seeded['Element Desktop: macOS'].device_id], password: null, include_own: false } }),
    await call('refresh_account', { accountId: 'no-such-account' }),
    await call('detect', { request: { url: 'http://', kind: null } }),
  ];
  for (const text of received) assert.doesNotMatch(text, /--[a-z]/, text.slice(0, 300));
  assert.match(received[3], /"remedy":\{"remedy":"give_password"/, received[3]);
  assert.equal((await serverDevices()).length, 5, 'the revoke without a password changed nothing');
});

test('a second launch leaves the running app alone and exits', async () => {
  const second = spawn(APP, [], { env: process.env, stdio: 'ignore' });
  const code = await Promise.race([
    new Promise((resolve) => second.once('exit', (c) => resolve(c))),
    sleep(30000).then(() => 'still running'),
  ]);
  if (code === 'still running') second.kill('SIGKILL');
  assert.equal(code, 0, 'the second instance handed over to the first and exited');
  assert.equal(await d.exec('return document.querySelectorAll("[data-testid=credential-row]").length'), 5, 'the first is still there');
});

test('details pane and the main window screenshot (light)', async () => {
  await d.click(await rowOf(d, 'Element Desktop: macOS'));
  const title = await d.text(await d.waitFor('[data-testid="details-title"]'));
  assert.equal(title, 'Element Desktop: macOS');
  await d.screenshot('main-light.png');
});

test('rename a device, and the server has the new name', async () => {
  const target = seeded['app.element.io: Firefox on Linux'];
  await d.click(await rowOf(d, 'app.element.io: Firefox on Linux'));
  await d.until('details of the Firefox device', async () =>
    (await d.text(await d.find('[data-testid="details-title"]'))) === 'app.element.io: Firefox on Linux');
  await d.click(await d.find('[data-testid="rename"]'));
  const input = await d.waitFor('[data-testid="rename-input"]');
  await d.clear(input);
  await d.type(input, 'Firefox at the library');
  await d.click(await d.find('[data-testid="rename-save"]'));
  await d.until('the row shows the new name', async () => {
    const shown = await d.textOf(`[data-cred-id="${target.device_id}"] [data-testid="credential-name"]`);
    return shown === 'Firefox at the library' || `shown: ${JSON.stringify(shown)}`;
  }, 60000);
  const dev = (await serverDevices()).find((x) => x.device_id === target.device_id);
  assert.equal(dev.display_name, 'Firefox at the library');
});

test('revoke a device with the password, and it is gone from the server', async () => {
  const target = seeded['Element X on Pixel 8'];
  await d.click(await rowOf(d, 'Element X on Pixel 8'));
  await d.until('details of the Pixel', async () => (await d.text(await d.find('[data-testid="details-title"]'))) === 'Element X on Pixel 8');
  await d.click(await d.find('[data-testid="revoke-one"]'));
  await d.waitFor('[data-testid="revoke-dialog"]');
  const items = await d.findAll('[data-testid="revoke-item"]');
  assert.equal(items.length, 1);
  await d.type(await d.find('[data-testid="revoke-password"]'), password);
  await d.screenshot('revoke-dialog.png');
  await d.click(await d.find('[data-testid="revoke-confirm"]'));
  const result = await d.waitFor('[data-testid="revoke-result"]', 60000);
  assert.equal(await d.text(result), 'Done');
  await d.click(await d.find('[data-testid="revoke-close"]'));
  await d.until('the row is gone', async () =>
    (await d.findAll(`[data-testid="credential-row"][data-cred-id="${target.device_id}"]`)).length === 0);
  const ids = (await serverDevices()).map((x) => x.device_id);
  assert.ok(!ids.includes(target.device_id), 'the device is gone on the server');
  assert.equal(ids.length, 4, "the others are still there (three seeded and Keyward's own)");
});

test('the saved listing shows at once on the next start, in the dark theme', async () => {
  await d.stop();
  d = newDriver({ KEYWARD_THEME: 'dark', GTK_THEME: 'Adwaita:dark' });
  await d.start();
  await rowOf(d, 'Element Desktop: macOS');
  const dark = await d.exec('return getComputedStyle(document.body).backgroundColor');
  assert.notEqual(dark, 'rgb(246, 247, 249)', 'the dark theme is applied');
  await d.until('the refresh is done', async () =>
    (await d.exec('return document.querySelectorAll(".dot.refreshing").length')) === 0);
  await d.click(await rowOf(d, 'Element Desktop: macOS'));
  await d.waitFor('[data-testid="details-title"]');
  await d.screenshot('main-dark.png');
});

test('readable at 200% zoom: at half the width and height nothing spills sideways and the list stays usable', async () => {
  // 200% zoom of the 1280x800 window lays out like a 640x400 window: check that one.
  const before = await d.cmd('GET', '/window/rect');
  await d.cmd('POST', '/window/rect', { width: 640, height: 400 });
  await d.until('the window is 640 wide', async () => (await d.exec('return window.innerWidth')) <= 660 || `width ${await d.exec('return window.innerWidth')}`);
  await sleep(300);
  const layout = await d.exec(`
    const list = document.querySelector('[data-testid="credential-list"]').getBoundingClientRect();
    return { overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth, listWidth: list.width, listHeight: list.height };
  `);
  await d.screenshot('zoom-200.png', SHOTS);
  await d.cmd('POST', '/window/rect', { width: before.width, height: before.height });
  assert.ok(layout.overflow <= 1, `the page scrolls sideways by ${layout.overflow}px`);
  assert.ok(layout.listWidth > 300 && layout.listHeight > 100, `the list is squeezed: ${JSON.stringify(layout)}`);
});

test('bulk, by keyboard: Space selects, Delete asks once for the password, both go on the server', async () => {
  const hostile = seeded[HOSTILE].device_id;
  const firefox = seeded['app.element.io: Firefox on Linux'].device_id;
  await d.click(await rowOf(d, HOSTILE));
  const list = await d.find('[data-testid="credential-list"]');
  await d.type(list, '\uE00D'); // Space: select the current row
  await d.click(await d.find(`[data-cred-id="${firefox}"] input[type="checkbox"]`));
  await d.waitFor('[data-testid="revoke-selected"]');
  await d.type(list, '\uE017'); // Delete: revoke the selection
  await d.waitFor('[data-testid="revoke-dialog"]');
  const ids = await d.exec('return [...document.querySelectorAll("[data-testid=revoke-item]")].map(e => e.dataset.credId).sort()');
  assert.deepEqual(ids, [hostile, firefox].sort());
  assert.equal((await d.findAll('[data-testid="revoke-password"]')).length, 1, 'one password for the one account');
  await d.type(await d.find('[data-testid="revoke-password"]'), password);
  await d.click(await d.find('[data-testid="revoke-confirm"]'));
  await d.until('two results', async () => (await d.findAll('[data-testid="revoke-result"]')).length === 2, 60000);
  const results = await d.exec('return [...document.querySelectorAll("[data-testid=revoke-result]")].map(e => e.textContent)');
  assert.deepEqual(results, ['Done', 'Done']);
  await d.click(await d.find('[data-testid="revoke-close"]'));
  const left = (await serverDevices()).map((x) => x.device_id);
  assert.ok(!left.includes(hostile) && !left.includes(firefox), 'both are gone on the server');
  assert.equal(left.length, 2, "Element Desktop and Keyward's own remain");
});

test("signing out Keyward's own session: the account needs sign-in, and signs in again", async () => {
  const own = await d.waitFor('[data-testid="credential-row"][data-current="true"]');
  await d.click(own);
  await d.click(await d.waitFor('[data-testid="revoke-one"]'));
  await d.waitFor('[data-testid="revoke-dialog"]');
  const warning = await d.exec('return document.querySelector("[data-testid=revoke-dialog]").textContent');
  assert.match(warning, /Keyward will be signed out of/);
  await d.type(await d.find('[data-testid="revoke-password"]'), password);
  await d.click(await d.find('[data-testid="revoke-confirm"]'));
  await d.until('the result', async () => (await d.findAll('[data-testid="revoke-result"]')).length === 1, 60000);
  await d.click(await d.find('[data-testid="revoke-close"]'));
  await d.until('the account needs sign-in', async () => {
    const state = await d.textOf('[data-testid="account-state"]');
    return state === 'Needs sign-in' || state;
  });
  assert.equal((await serverDevices()).length, 1, "only Element Desktop is left: Keyward's own session is gone");

  await d.click(await d.find('[data-testid="account-item"]'));
  await d.click(await d.waitFor('[data-testid="sign-in-again"]'));
  await d.type(await d.waitFor('[data-testid="add-secret"]'), password);
  await d.click(await d.find('[data-testid="add-submit"]'));
  await d.until('the account is up to date again', async () => {
    const state = await d.textOf('[data-testid="account-state"]');
    return /^Up to date/.test(state ?? '') || state;
  }, 60000);
  await d.until('two rows', async () => (await d.findAll('[data-testid="credential-row"]')).length === 2);
  assert.equal((await d.findAll('[data-testid="sign-in-again"]')).length, 0);
});

test('the checkup shows a finding for a new device, and "This is fine" removes it', async () => {
  await seedDevice('Checkup phone', '198.51.100.61');
  const id = seeded['Checkup phone'].device_id;
  await d.click(await d.find('[data-testid="account-item"]'));
  await d.click(await d.find('[data-testid="refresh"]'));
  await rowOf(d, 'Checkup phone');
  await d.until('the changes banner names the new device', async () => {
    const words = await d.textOf('[data-testid="changes-banner"]');
    return (words ?? '').includes('New since you last looked') || `banner: ${JSON.stringify(words)}`;
  }, 60000);
  await d.click(await d.find('[data-testid="view-checkup"]'));
  const fine = `[data-testid="finding"][data-cred-id="${id}"][data-code="new"] [data-testid="finding-fine"]`;
  await d.waitFor(fine, 60000);
  const reason = await d.textOf(`[data-testid="finding"][data-cred-id="${id}"][data-code="new"] [data-testid="finding-reason"]`);
  assert.ok(reason && reason.length > 10, `the core's reason is shown: ${JSON.stringify(reason)}`);
  await d.screenshot('checkup.png');
  await d.click(await d.find(fine));
  await d.until('the finding is gone', async () => (await d.findAll(fine)).length === 0);
  // Back to the list: the banner dismisses (the core marks the changes seen).
  await d.click(await d.find('[data-testid="account-item"]'));
  await d.click(await d.waitFor('[data-testid="changes-dismiss"]'));
  await d.until('the banner is gone', async () => (await d.findAll('[data-testid="changes-banner"]')).length === 0);
});

test('a pasted leaked token names its device, is never in the DOM, and Revoke removes it on the server', async () => {
  const leaked = seeded['Checkup phone'];
  await d.click(await d.find('[data-testid="view-paste"]'));
  const input = await d.waitFor('[data-testid="paste-input"]');
  assert.equal(await d.exec('return document.querySelector("[data-testid=paste-input]").type'), 'password');
  await d.type(input, leaked.access_token);
  await d.click(await d.find('[data-testid="paste-submit"]'));
  await d.until('the device is named', async () => {
    const name = await d.textOf('[data-testid="identity-name"]');
    return name === 'Checkup phone' || `shown: ${JSON.stringify(name)}`;
  }, 60000);
  assert.equal(await d.textOf('[data-testid="identity-valid"]'), 'Still works');
  const inDom = await d.exec(
    'return document.documentElement.outerHTML.includes(arguments[0]) || [...document.querySelectorAll("input")].some(i => i.value.includes(arguments[0]))',
    [leaked.access_token],
  );
  assert.equal(inDom, false, 'the token is nowhere in the DOM after identify');
  await d.click(await d.find('[data-testid="identity-revoke"]'));
  await d.waitFor('[data-testid="revoke-dialog"]');
  const items = await d.exec('return [...document.querySelectorAll("[data-testid=revoke-item]")].map(e => e.dataset.credId)');
  assert.deepEqual(items, [leaked.device_id], 'the dialog lists exactly the leaked device');
  await d.type(await d.find('[data-testid="revoke-password"]'), password);
  await d.click(await d.find('[data-testid="revoke-confirm"]'));
  const result = await d.waitFor('[data-testid="revoke-result"]', 60000);
  assert.equal(await d.text(result), 'Done');
  await d.click(await d.find('[data-testid="revoke-close"]'));
  const ids = (await serverDevices()).map((x) => x.device_id);
  assert.ok(!ids.includes(leaked.device_id), 'the leaked device is gone on the server');
  const who = await http('GET', `${SYNAPSE}/_matrix/client/v3/account/whoami`, { token: leaked.access_token });
  assert.equal(who.status, 401, 'the leaked token no longer works');
});

test('the history lists the revoke, and Export saves the report', async () => {
  await d.click(await d.find('[data-testid="view-history"]'));
  await d.until('the history lists the revoke of the leaked device', async () => {
    const all = await d.exec('return [...document.querySelectorAll("[data-testid=history-entry]")].map(e => e.textContent).join("\\n")');
    return all.includes('Revoked Checkup phone') || `history: ${JSON.stringify(all)}`;
  });
  await d.click(await d.find('[data-testid="export-report"]'));
  await d.until('the saved path is shown', async () => {
    const p = await d.textOf('[data-testid="export-path"]');
    return /keyward-report-\d{4}-\d{2}-\d{2}\.html$/.test(p ?? '') || `shown: ${JSON.stringify(p)}`;
  });
  const path = (await d.textOf('[data-testid="export-path"]')).replace(/^Saved to /, '');
  const html = readFileSync(path, 'utf8');
  assert.ok(html.includes('Checkup phone'), 'the report names what was revoked');
  assert.ok(!html.includes(seeded['Checkup phone'].access_token), 'the report holds no token');
  await d.click(await d.find('[data-testid="account-item"]'));
});

test('safe to share: no address, e-mail or id in the DOM, names and times stay, the mode survives a restart, the report is masked', async () => {
  // What must be hidden is on screen first (so the checks below can fail).
  const clearDom = await d.exec('return document.documentElement.outerHTML');
  assert.ok(clearDom.includes('203.0.113.7'), 'the address is shown before the mode is on');
  const ids = Object.values(seeded).map((x) => x.device_id);
  const ips = ['203.0.113.7', '198.51.100.23', '192.0.2.44', '203.0.113.99'];
  const leaks = (dom) => [...ips, ...ids].filter((v) => dom.includes(v));

  await d.click(await d.find('[data-testid="safe-toggle"]'));
  await d.waitFor('[data-testid="safe-banner"]');
  await d.until('the rows are masked', async () => {
    const dom = await d.exec('return document.documentElement.outerHTML');
    return leaks(dom).length === 0 || `in clear: ${leaks(dom)}`;
  });
  const desktop = await d.exec(
    'return [...document.querySelectorAll("[data-testid=credential-row]")].find(r => r.textContent.includes("Element Desktop: macOS"))?.dataset.credId',
  );
  assert.match(desktop, /^•••[a-z2-9]{6}$/, 'the row is there, its id masked');
  const summary = await d.textOf(`[data-cred-id="${desktop}"] [data-testid="credential-summary"]`);
  assert.match(summary, /active .* · 203\.0\.113\.•••/, `names and times stay, the address is masked: ${summary}`);
  await d.click(await d.find(`[data-testid="credential-row"][data-cred-id="${desktop}"]`));
  await d.waitFor('[data-testid="details-title"]');
  const guide = await d.textOf('[data-testid="guide"]');
  assert.ok(guide && guide.length > 40, `the details pane explains what a session is: ${guide}`);
  await d.screenshot('safe-mode.png');
  writeFileSync(`${LOGS}/safe-mode-dom.html`, await d.exec('return document.documentElement.outerHTML'));
  assert.deepEqual(leaks(readFileSync(`${LOGS}/safe-mode-dom.html`, 'utf8')), [], 'the screenshot-time DOM has nothing in clear');

  // The exported report is masked too.
  await d.click(await d.find('[data-testid="view-history"]'));
  await d.click(await d.waitFor('[data-testid="export-report"]'));
  await d.until('the saved path is shown', async () => /\.html$/.test((await d.textOf('[data-testid="export-path"]')) ?? ''));
  const report = readFileSync((await d.textOf('[data-testid="export-path"]')).replace(/^Saved to /, ''), 'utf8');
  assert.deepEqual(leaks(report), [], 'the report made in safe mode has nothing in clear');
  assert.match(report, /screen-share-safe/);

  // Still on after a restart, until switched off.
  await d.stop();
  d = newDriver({});
  await d.start();
  await d.waitFor('[data-testid="safe-banner"]');
  await d.until('the saved listing shows, masked', async () => {
    const dom = await d.exec('return document.documentElement.outerHTML');
    return (dom.includes('Element Desktop: macOS') && leaks(dom).length === 0) || `in clear: ${leaks(dom)}`;
  });
  await d.until('the refresh is done', async () => (await d.exec('return document.querySelectorAll(".dot.refreshing").length')) === 0);
  assert.deepEqual(leaks(await d.exec('return document.documentElement.outerHTML')), [], 'a fresh listing is masked too');
  await d.click(await d.find('[data-testid="safe-off"]'));
  await d.until('the banner is gone', async () => (await d.findAll('[data-testid="safe-banner"]')).length === 0);
  // Off, the listing is read again in clear: the ids are back (the tests after it act on them).
  await d.until('the ids are shown again', async () => leaks(await d.exec('return document.documentElement.outerHTML')).length > 0);
  await rowOf(d, 'Element Desktop: macOS');
});

// Everything below changes what the window shows (a label, fewer devices, no account): it runs
// after every screenshot above, so those show a full, calm window.

test('label the account through the UI, and the sidebar shows the label', async () => {
  await d.click(await d.find('[data-testid="account-item"]'));
  await d.click(await d.waitFor('[data-testid="rename-account"]'));
  const input = await d.waitFor('[data-testid="account-label-input"]');
  await d.clear(input);
  await d.type(input, 'Work Matrix');
  await d.screenshot('account-label-edit.png', SHOTS);
  await d.click(await d.find('[data-testid="account-label-save"]'));
  await d.until('the sidebar shows the label', async () => {
    const shown = await d.textOf('[data-testid="account-item"] .name');
    return shown === 'Work Matrix' || `shown: ${JSON.stringify(shown)}`;
  });
  assert.equal(await d.textOf('[data-testid="account-title"]'), 'Work Matrix');
  assert.equal((await d.findAll('[data-testid="account-label-input"]')).length, 0, 'the edit is closed');
  await d.screenshot('account-labelled.png', SHOTS);
});

test("sign out all other sessions with the password: on the server only Keyward's own device remains", async () => {
  await seedDevice('Old laptop', '198.51.100.80');
  await seedDevice('Tablet', '192.0.2.81');
  await d.click(await d.find('[data-testid="refresh"]'));
  await d.until('four rows', async () => (await d.findAll('[data-testid="credential-row"]')).length === 4, 60000);
  const own = await d.exec('return document.querySelector("[data-testid=credential-row][data-current=true]").dataset.credId');
  const others = ['Element Desktop: macOS', 'Old laptop', 'Tablet'].map((n) => seeded[n].device_id).sort();

  await d.click(await d.find('[data-testid="all-others"]'));
  await d.waitFor('[data-testid="revoke-dialog"]');
  const listed = await d.exec('return [...document.querySelectorAll("[data-testid=revoke-item]")].map(e => e.dataset.credId).sort()');
  assert.deepEqual(listed, others, 'the dialog lists exactly the other sessions');
  await d.type(await d.find('[data-testid="revoke-password"]'), password);
  await d.click(await d.find('[data-testid="revoke-confirm"]'));
  await d.until('three results', async () => (await d.findAll('[data-testid="revoke-result"]')).length === 3, 60000);
  const results = await d.exec('return [...document.querySelectorAll("[data-testid=revoke-result]")].map(e => e.textContent)');
  assert.deepEqual(results, ['Done', 'Done', 'Done']);
  await d.click(await d.find('[data-testid="revoke-close"]'));
  await d.until('only the own row', async () => (await d.findAll('[data-testid="credential-row"]')).length === 1);

  const left = (await serverDevicesSeenFresh()).map((x) => x.device_id);
  assert.deepEqual(left, [own], "only Keyward's own device is left on the server");
});

test("remove the account, signing Keyward out on the server: its device is gone and the welcome shows", async () => {
  const own = await d.exec('return document.querySelector("[data-testid=credential-row][data-current=true]").dataset.credId');
  await d.click(await d.find('[data-testid="remove-account"]'));
  await d.waitFor('[data-testid="remove-dialog"]');
  assert.equal(await d.exec('return document.querySelector("[data-testid=remove-sign-out]").checked'), true, 'signing out is offered, ticked');
  await d.click(await d.find('[data-testid="remove-confirm"]'));
  await d.waitFor('[data-testid="welcome"]', 60000);
  assert.equal((await d.findAll('[data-testid="account-item"]')).length, 0, 'the sidebar lists no account');
  assert.equal((await d.findAll('[data-testid="credential-row"]')).length, 0);

  const left = (await serverDevicesSeenFresh()).map((x) => x.device_id);
  assert.ok(!left.includes(own), "Keyward's own device is gone on the server");
  assert.deepEqual(left, [], 'no device of the account is left');
});

// ---------- several accounts of different kinds at once (the README's screenshot) ----------

/** `keyward ARGS` with the app's own config directory and keyring (or extraEnv's), `input` on stdin. */
function cli(args, input, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(CLI, args, { env: { ...process.env, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (err += b));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`keyward ${args.join(' ')}: ${err}`))));
    p.stdin.end(input ?? '');
  });
}

/** The simulated Moodle of the Rust tests (no real Moodle installs here), on a port of its own. */
function startMoodle() {
  return new Promise((resolve, reject) => {
    const p = spawn('python3', [MOODLE_SIM], { stdio: ['ignore', 'pipe', 'inherit'] });
    p.on('error', reject);
    p.stdout.once('data', (b) => {
      const port = /PORT (\d+)/.exec(String(b))?.[1];
      port ? resolve({ proc: p, url: `http://127.0.0.1:${port}` }) : reject(new Error(`moodle sim said ${b}`));
    });
  });
}

let moodle = null;
after(() => moodle?.proc.kill());

test('several accounts of different kinds in one window: Matrix, JupyterHub, Home Assistant, WordPress, Moodle', async (t) => {
  const need = ['KEYWARD_TEST_JUPYTERHUB_URL', 'KEYWARD_TEST_HA_URL', 'KEYWARD_TEST_WORDPRESS_URL'];
  const missing = need.filter((n) => !process.env[n]);
  if (missing.length) {
    // `make test` starts every server (and requires them); a run of e2e.sh alone may not.
    assert.ok(!process.env.KEYWARD_REQUIRE_SERVERS, `missing servers: ${missing}`);
    t.skip(`no ${missing.join(', ')}`);
    return;
  }
  await d.stop();
  // Matrix again, with a few devices.
  await seedDevice('Element on iPhone', '198.51.100.14');
  await cli(['add', SYNAPSE, '--user', user, '--password-stdin'], `${password}\n`);
  // JupyterHub: a user the hub knows (made with the test service's token) signs in with the
  // hub's shared test password.
  const hubUser = `e2e${randomBytes(3).toString('hex')}`;
  const hub = process.env.KEYWARD_TEST_JUPYTERHUB_URL.replace(/\/$/, '');
  const made = await fetch(`${hub}/hub/api/users/${hubUser}`, { method: 'POST', headers: { authorization: `token ${process.env.KEYWARD_TEST_JUPYTERHUB_SERVICE_TOKEN}` } });
  assert.equal(made.status, 201, `creating the hub user: ${made.status}`);
  await cli(['add', process.env.KEYWARD_TEST_JUPYTERHUB_URL, '--user', hubUser, '--kind', 'jupyterhub', '--password-stdin'], `${process.env.KEYWARD_TEST_JUPYTERHUB_PASSWORD}\n`);
  // Home Assistant: the last of its test users (the Rust tests are done with it).
  const haUser = process.env.KEYWARD_TEST_HA_USERS.split(/\s+/).filter((u) => u && !u.includes('mfa')).pop();
  await cli(['add', process.env.KEYWARD_TEST_HA_URL, '--user', haUser, '--password-stdin'], `${process.env.KEYWARD_TEST_HA_PASSWORD}\n`);
  // WordPress: a fresh user with an application password, made by the site's administrator.
  const wp = process.env.KEYWARD_TEST_WORDPRESS_URL.replace(/\/$/, '');
  const adminAuth = 'Basic ' + Buffer.from(`${process.env.KEYWARD_TEST_WORDPRESS_ADMIN}:${process.env.KEYWARD_TEST_WORDPRESS_ADMIN_PASSWORD}`).toString('base64');
  const wpCall = async (path, body) => {
    const r = await fetch(`${wp}/wp-json/${path}`, { method: 'POST', headers: { authorization: adminAuth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.ok(r.ok, `${path}: ${r.status}`);
    return r.json();
  };
  const wpName = `e2e${randomBytes(3).toString('hex')}`;
  const wpUser = await wpCall('wp/v2/users', { username: wpName, email: `${wpName}@example.org`, password: `pw-${randomBytes(8).toString('hex')}` });
  await wpCall(`wp/v2/users/${wpUser.id}/application-passwords`, { name: 'Phone app' });
  const appPassword = (await wpCall(`wp/v2/users/${wpUser.id}/application-passwords`, { name: 'Keyward' })).password;
  await cli(['add', wp, '--user', wpName, '--token-stdin'], `${appPassword}\n`);
  // Moodle, simulated.
  moodle = await startMoodle();
  await cli(['add', moodle.url, '--user', 'alice', '--password-stdin'], 'alice-pass-1\n');

  const accounts = JSON.parse(await cli(['accounts', '--json']));
  assert.deepEqual(accounts.map((a) => a.kind).sort(), ['homeassistant', 'jupyterhub', 'matrix', 'moodle', 'wordpress']);

  d = newDriver({});
  await d.start();
  await d.until('every account in the sidebar', async () => (await d.findAll('[data-testid="account-item"]')).length === 5, 60000);
  await d.until('every account refreshed', async () => (await d.exec('return document.querySelectorAll(".dot.refreshing").length')) === 0, 90000);
  const groups = await d.exec('return document.querySelector("[data-testid=credential-list]").textContent');
  for (const kind of ['Matrix', 'JupyterHub', 'Home Assistant', 'WordPress', 'Moodle']) {
    assert.ok((await d.exec('return document.querySelector("aside.sidebar").textContent')).includes(kind), `the sidebar names ${kind}`);
  }
  assert.ok(groups.length > 0);
  await d.click(await d.waitFor('[data-testid="credential-row"]'));
  await d.screenshot('accounts.png');
  await d.click(await d.find('[data-testid="view-checkup"]'));
  await d.waitFor('[data-testid="checkup"]', 30000);
  await d.screenshot('checkup-accounts.png', SHOTS);
});

/** A person's browser for the test: cookies kept by hand, redirects seen one by one. */
class Browser {
  constructor() {
    this.cookies = new Map();
  }
  async go(url, { form } = {}) {
    const headers = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(20000),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return { status: res.status, location: res.headers.get('location'), text: await res.text() };
  }
}

const unescapeHtml = (s) => s.replace(/&quot;/g, '"').replace(/&#0?39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const attr = (tag, name) => {
  const m = tag.match(new RegExp(`\\s${name}=(?:"([^"]*)"|'([^']*)')`));
  return m ? unescapeHtml(m[1] ?? m[2]) : null;
};

test('WordPress: "Approve in your browser" in the add dialog adds the account, and its password never reaches the window', async (t) => {
  if (!process.env.KEYWARD_TEST_WORDPRESS_URL) {
    assert.ok(!process.env.KEYWARD_REQUIRE_SERVERS, 'missing server: KEYWARD_TEST_WORDPRESS_URL');
    t.skip('no KEYWARD_TEST_WORDPRESS_URL');
    return;
  }
  const wp = process.env.KEYWARD_TEST_WORDPRESS_URL.replace(/\/$/, '');
  const adminAuth = 'Basic ' + Buffer.from(`${process.env.KEYWARD_TEST_WORDPRESS_ADMIN}:${process.env.KEYWARD_TEST_WORDPRESS_ADMIN_PASSWORD}`).toString('base64');
  const wpName = `e2eb${randomBytes(3).toString('hex')}`;
  const wpPassword = `pw-${randomBytes(8).toString('hex')}`;
  const made = await fetch(`${wp}/wp-json/wp/v2/users`, {
    method: 'POST',
    headers: { authorization: adminAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ username: wpName, email: `${wpName}@example.org`, password: wpPassword }),
  });
  assert.ok(made.ok, `making the user: ${made.status}`);
  const wpUser = await made.json();

  if (d) await d.stop();
  // The opener has nothing to open here: the test is the browser.
  d = newDriver({ BROWSER: 'true' });
  await d.start();
  await d.until('an add button', async () => (await d.exec('return !!document.querySelector("[data-testid=welcome-add],[data-testid=add-account]")')) === true, 30000);
  await d.exec('document.querySelector("[data-testid=welcome-add],[data-testid=add-account]").click()');
  await d.type(await d.waitFor('[data-testid="add-url"]'), wp);
  await d.click(await d.find('[data-testid="add-continue"]'));
  const approve = await d.waitFor('[data-testid="add-browser"]', 30000);
  assert.equal(await d.textOf('[data-testid="add-browser"]'), 'Approve in your browser');
  // The application password can still be pasted instead.
  await d.find('[data-testid="add-secret"]');
  await d.type(await d.find('[data-testid="add-login"]'), wpName);
  await d.click(approve);
  await d.waitFor('[data-testid="add-waiting"]', 30000);
  assert.match(await d.textOf('[data-testid="add-waiting"]'), /Waiting for you to approve Keyward in your browser…/);
  const page = (await d.textOf('[data-testid="add-browser-page"]')).trim();
  assert.ok(page.startsWith(`${wp}/wp-admin/authorize-application.php?`), page);

  // The person: logs in on the site, presses "approve" on the page the app showed.
  const b = new Browser();
  await b.go(`${wp}/wp-login.php`);
  const loggedIn = await b.go(`${wp}/wp-login.php`, { form: { log: wpName, pwd: wpPassword, 'wp-submit': 'Log In', redirect_to: page, testcookie: '1' } });
  assert.equal(loggedIn.status, 302, 'the login worked');
  const approval = await b.go(page);
  assert.equal(approval.status, 200);
  const formTag = [...approval.text.matchAll(/<form\b[^>]*>/g)].map((m) => m[0]).find((f) => (attr(f, 'action') ?? '').includes('authorize-application.php'));
  assert.ok(formTag, 'the approval form');
  const formHtml = approval.text.slice(approval.text.indexOf(formTag), approval.text.indexOf('</form>', approval.text.indexOf(formTag)));
  const fields = {};
  for (const [tag] of formHtml.matchAll(/<input\b[^>]*>/g)) {
    const name = attr(tag, 'name');
    if (!name || (attr(tag, 'type') === 'submit' && name !== 'approve')) continue;
    fields[name] = attr(tag, 'value') ?? '';
  }
  assert.ok(fields._wpnonce && 'approve' in fields, JSON.stringify(Object.keys(fields)));
  const pressed = await b.go(new URL(attr(formTag, 'action'), page).toString(), { form: fields });
  assert.equal(pressed.status, 302);
  assert.ok(pressed.location.startsWith('http://127.0.0.1:'), `WordPress sends the browser back to Keyward: ${pressed.location.split('?')[0]}`);
  const appPassword = new URL(pressed.location).searchParams.get('password');
  assert.ok(appPassword);
  const back = await b.go(pressed.location);
  assert.equal(back.status, 200);

  // The dialog closes like any add, the account is there; the password is nowhere in the window.
  await d.until('the dialog closed', async () => (await d.exec('return !document.querySelector("[data-testid=add-dialog]")')) === true, 30000);
  await d.until('the account in the sidebar', async () => (await d.exec('return document.querySelector("aside.sidebar").textContent')).includes(wpName), 30000);
  const dom = await d.exec('return document.documentElement.outerHTML');
  assert.ok(!dom.includes(appPassword) && !dom.includes(appPassword.replace(/ /g, '')), 'the application password is in the DOM');
  const accounts = JSON.parse(await cli(['accounts', '--json']));
  assert.ok(accounts.some((a) => a.kind === 'wordpress' && a.user_id === wpName), JSON.stringify(accounts.map((a) => a.user_id)));
  const onSite = await (await fetch(`${wp}/wp-json/wp/v2/users/${wpUser.id}/application-passwords`, { headers: { authorization: adminAuth } })).json();
  assert.equal(onSite.length, 1);
  assert.match(onSite[0].name, /^Keyward on /);
});

test('WordPress: Cancel while waiting for the browser says so in one sentence, goes back to the choice and closes the listener', async (t) => {
  if (!process.env.KEYWARD_TEST_WORDPRESS_URL) {
    assert.ok(!process.env.KEYWARD_REQUIRE_SERVERS, 'missing server: KEYWARD_TEST_WORDPRESS_URL');
    t.skip('no KEYWARD_TEST_WORDPRESS_URL');
    return;
  }
  const wp = process.env.KEYWARD_TEST_WORDPRESS_URL.replace(/\/$/, '');
  if (!d?.session) {
    d = newDriver({ BROWSER: 'true' });
    await d.start();
  }
  await d.until('an add button', async () => (await d.exec('return !!document.querySelector("[data-testid=welcome-add],[data-testid=add-account]")')) === true, 30000);
  const before = JSON.parse(await cli(['accounts', '--json'])).length;
  await d.exec('document.querySelector("[data-testid=welcome-add],[data-testid=add-account]").click()');
  await d.type(await d.waitFor('[data-testid="add-url"]'), wp);
  await d.click(await d.find('[data-testid="add-continue"]'));
  await d.click(await d.waitFor('[data-testid="add-browser"]', 30000));
  await d.waitFor('[data-testid="add-waiting"]', 30000);
  const page = new URL((await d.textOf('[data-testid="add-browser-page"]')).trim());
  const port = Number(new URL(page.searchParams.get('success_url')).port);
  assert.equal(await new Promise((r) => net.connect(port, '127.0.0.1').on('connect', function () { this.destroy(); r(true); }).on('error', () => r(false))), true, 'Keyward listens while it waits');
  await d.click(await d.find('[data-testid="add-browser-cancel"]'));
  const said = await d.waitFor('[data-testid="add-browser-error"]', 30000);
  assert.ok(said);
  assert.match(await d.textOf('[data-testid="add-browser-error"]'), /cancelled; nothing was stored/);
  assert.ok(await d.find('[data-testid="add-browser"]'), 'back at the choice');
  assert.equal(await d.exec('return !!document.querySelector("[data-testid=add-waiting]")'), false);
  await d.until('the listener closed', async () => !(await new Promise((r) => net.connect(port, '127.0.0.1').on('connect', function () { this.destroy(); r(true); }).on('error', () => r(false)))), 10000);
  assert.equal(JSON.parse(await cli(['accounts', '--json'])).length, before, 'nothing was stored');
  await d.exec('document.querySelector("[data-testid=add-dialog] .buttons .btn").click()');
});

/** The RFC 6238 code of a base32 secret now (HMAC-SHA-1, 30-second steps, 6 digits). */
function totpNow(secret) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const at = h[19] & 0x0f;
  return String(((h.readUInt32BE(at) & 0x7fffffff) % 1000000)).padStart(6, '0');
}

test('Home Assistant with two-factor login: the dialog asks for the one-time code, says when it is wrong, and adds the account with the right one', async (t) => {
  if (!process.env.KEYWARD_TEST_HA_URL || !process.env.KEYWARD_TEST_HA_MFA_USERS) {
    assert.ok(!process.env.KEYWARD_REQUIRE_SERVERS, 'missing server: KEYWARD_TEST_HA_URL');
    t.skip('no KEYWARD_TEST_HA_URL');
    return;
  }
  const ha = process.env.KEYWARD_TEST_HA_URL.replace(/\/$/, '');
  const haUser = process.env.KEYWARD_TEST_HA_MFA_USERS.split(/\s+/).filter(Boolean).pop();
  if (!d?.session) {
    d = newDriver({});
    await d.start();
  }
  await d.until('an add button', async () => (await d.exec('return !!document.querySelector("[data-testid=welcome-add],[data-testid=add-account]")')) === true, 30000);
  await d.exec('document.querySelector("[data-testid=welcome-add],[data-testid=add-account]").click()');
  await d.type(await d.waitFor('[data-testid="add-url"]'), ha);
  await d.click(await d.find('[data-testid="add-continue"]'));
  await d.type(await d.waitFor('[data-testid="add-login"]', 30000), haUser);
  assert.equal(await d.exec('return !!document.querySelector("[data-testid=add-browser]")'), false, 'Home Assistant offers no browser approval');
  assert.equal(await d.exec('return !!document.querySelector("[data-testid=add-code]")'), false);
  const send = async (code) => {
    await d.type(await d.find('[data-testid="add-secret"]'), process.env.KEYWARD_TEST_HA_PASSWORD);
    if (code) {
      const field = await d.find('[data-testid="add-code"]');
      await d.clear(field);
      await d.type(field, code);
    }
    await d.click(await d.find('[data-testid="add-submit"]'));
  };
  await send(null);
  await d.waitFor('[data-testid="add-code-error"]', 30000);
  const asked = await d.textOf('[data-testid="add-code-error"]');
  assert.ok(asked.length > 0 && !/--[a-z]/.test(asked), asked);
  await d.waitFor('[data-testid="add-code"]');
  const right = totpNow(process.env.KEYWARD_TEST_HA_TOTP_SECRET);
  const wrong = String((Number(right) + 500000) % 1000000).padStart(6, '0');
  await send(wrong);
  // The field's error goes while the dialog asks the server: wait for the answer's.
  await d.until('the wrong code said', async () => /not accepted/.test((await d.textOf('[data-testid="add-code-error"]')) ?? ''), 30000);
  await d.until('ready again', async () => (await d.exec('return document.querySelector("[data-testid=add-submit]").disabled')) === false);
  await send(totpNow(process.env.KEYWARD_TEST_HA_TOTP_SECRET));
  await d
    .until('the dialog closed', async () => (await d.exec('return !document.querySelector("[data-testid=add-dialog]")')) === true, 30000)
    .catch(async (e) => {
      throw new Error(`${e.message}: the dialog says ${await d.textOf('[data-testid="add-dialog"]')}`);
    });
  const accounts = JSON.parse(await cli(['accounts', '--json']));
  assert.ok(accounts.some((a) => a.kind === 'homeassistant' && a.login === haUser), JSON.stringify(accounts.map((a) => a.login)));
});

// ---------- the background watch, with a real tray and a real notification server ----------
// scripts/e2e.sh runs xfce4-panel's notification area (the org.kde.StatusNotifierWatcher and host
// the tray icon registers with) and dunst (the notification server, which keeps what it showed)
// on the test's session bus and display.

const XWINDOW = new URL('./xwindow.py', import.meta.url).pathname;

function run(cmd, args) {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: 20000 }, (e, out, err) => (e ? reject(new Error(`${cmd} ${args.join(' ')}: ${err || e.message}`)) : resolve(out))),
  );
}

const gdbus = (dest, path, method, ...args) => run('gdbus', ['call', '--session', '--dest', dest, '--object-path', path, '--method', method, '--', ...args]);

/** The StatusNotifierItems the watcher knows of that belong to process `pid`: [{ bus, path }]. */
async function trayItemsOf(pid) {
  const out = await gdbus('org.kde.StatusNotifierWatcher', '/StatusNotifierWatcher', 'org.freedesktop.DBus.Properties.Get', 'org.kde.StatusNotifierWatcher', 'RegisteredStatusNotifierItems');
  const items = [];
  for (const [, entry] of out.matchAll(/'([^']+)'/g)) {
    const at = entry.indexOf('/');
    const bus = at < 0 ? entry : entry.slice(0, at);
    const path = at < 0 ? '/StatusNotifierItem' : entry.slice(at);
    const owner = await gdbus('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.GetConnectionUnixProcessID', bus).catch(() => '');
    if (Number(/\d+/.exec(owner.replace(/^\(uint32 /, ''))?.[0]) === pid) items.push({ bus, path });
  }
  return items;
}

/** The item's menu, through com.canonical.dbusmenu: [{ id, label }] of its top level. */
async function trayMenu({ bus, path }) {
  const menu = /objectpath '([^']+)'/.exec(await gdbus(bus, path, 'org.freedesktop.DBus.Properties.Get', 'org.kde.StatusNotifierItem', 'Menu'))?.[1];
  assert.ok(menu, 'the tray item has a menu');
  const layout = await gdbus(bus, menu, 'com.canonical.dbusmenu.GetLayout', '0', '-1', '[]');
  const items = [...layout.matchAll(/<\((\d+), \{[^}]*'label': <'([^']*)'>/g)].map((m) => ({ id: Number(m[1]), label: m[2] }));
  return { menu, items };
}

/** The item's status: 'Active' (shown), 'Passive' (hosts hide it) or 'NeedsAttention'. */
async function trayStatus({ bus, path }) {
  return /<'([^']*)'>/.exec(await gdbus(bus, path, 'org.freedesktop.DBus.Properties.Get', 'org.kde.StatusNotifierItem', 'Status'))?.[1];
}

/** What dunst has shown (its history, newest first): [{ id, app, summary, body }]. */
async function notificationsShown() {
  const h = JSON.parse(await run('dunstctl', ['history']));
  return (h.data[0] ?? []).map((n) => ({ id: n.id.data, app: n.appname.data, summary: n.summary.data, body: n.body.data }));
}

/** The app's main window as X sees it: { id, viewable }, or null. */
async function mainWindow(pid) {
  const all = JSON.parse(await run('/usr/bin/python3', [XWINDOW, 'list', String(pid)]));
  return all.find((w) => w.title === 'Keyward') ?? null;
}

/** Clicks the window's close button, as far as the app can tell: the window manager's message. */
const closeWindow = (pid) => run('/usr/bin/python3', [XWINDOW, 'close', String(pid), 'Keyward']);

function appPid(driver) {
  const pid = descendants(driver.proc.pid).find((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'keyward-app';
    } catch {
      return false;
    }
  });
  assert.ok(pid, 'the app runs under tauri-driver');
  return pid;
}

test('the window opens again where it was left, at the size it was left', async () => {
  if (d) await d.stop();
  d = newDriver({});
  await d.start();
  const pid = appPid(d);
  await d.until('the window is on screen', async () => (await mainWindow(pid))?.viewable === true, 15000);
  // Moved and resized as a person would, then closed (the watch is off here: closing quits).
  const want = { x: 96, y: 64, width: 1010, height: 690 };
  await d.cmd('POST', '/window/rect', want);
  const at = async () => {
    const r = await d.cmd('GET', '/window/rect');
    return ['x', 'y', 'width', 'height'].every((k) => r[k] === want[k]) || JSON.stringify(r);
  };
  await d.until('the window took the place and size', at, 15000);
  assert.equal(await closeWindow(pid), '1\n', 'one window asked to close');
  await d.until('the app quit when its window closed', async () => !alive(pid), 20000);
  await d.stop();

  d = newDriver({});
  await d.start();
  await d.until('the window opens where and as large as it was left', at, 15000);
});

test('keep watching: the tray item with Open and Quit, closing hides, the item and a second launch reopen, a new sign-in is notified in plain words, Quit quits, the next start has the icon; off, closing quits', async () => {
  if (d) await d.stop();
  d = null;
  // An account of its own in a store of its own (nothing of the tests before it refreshes here),
  // an admin of the server, so that its devices' user agents are listed.
  const wUser = `w${randomBytes(4).toString('hex')}`;
  const wPass = `pw-${randomBytes(8).toString('hex')}`;
  const dir = `${env('KEYWARD_CONFIG_DIR')}-watch`;
  // Every 3 seconds (the core's floor is 2), through the variable the watch's interval is set by.
  const watchEnv = { KEYWARD_CONFIG_DIR: dir, KEYWARD_KEYRING_SERVICE: `${env('KEYWARD_KEYRING_SERVICE')}-watch`, KEYWARD_WATCH_MINUTES: '0.05' };
  await registerUser(wUser, wPass, true);
  await cli(['add', SYNAPSE, '--user', wUser, '--password-stdin'], `${wPass}\n`, watchEnv);

  d = newDriver(watchEnv);
  await d.start();
  await d.until("Keyward's own session listed", async () => (await d.findAll('[data-testid="credential-row"]')).length === 1, 60000);
  const pid = appPid(d);
  assert.equal((await mainWindow(pid))?.viewable, true, 'the window is on screen');
  assert.deepEqual(await trayItemsOf(pid), [], 'no tray item while the watch is off');

  // On: the sidebar says it stays in the tray, and the item is on the bus with its menu.
  const toggle = await d.waitFor('[data-testid="background-watch-toggle"]');
  assert.equal(await d.exec('return document.querySelector("[data-testid=background-watch-toggle]").checked'), false, 'off by default');
  await d.click(toggle);
  await d.until('the hint names the tray', async () => /stays in the tray/.test((await d.textOf('[data-testid="background-watch-hint"]')) ?? ''));
  await d.until('the tray item is registered', async () => (await trayItemsOf(pid)).length === 1, 20000);
  const [item] = await trayItemsOf(pid);
  const { menu, items } = await trayMenu(item);
  assert.deepEqual(items.map((i) => i.label), ['Open Keyward', 'Quit'], JSON.stringify(items));

  // Closing hides the window; the app goes on.
  assert.equal(await closeWindow(pid), '1\n', 'one window asked to close');
  await d.until('the window is hidden', async () => (await mainWindow(pid))?.viewable === false || JSON.stringify(await mainWindow(pid)), 15000);
  await sleep(2000);
  assert.ok(alive(pid), 'the app still runs with its window closed');
  assert.equal((await mainWindow(pid))?.viewable, false, 'and the window stays hidden');

  // "Open Keyward" in the tray menu brings it back, the same window with the same page.
  const open = items.find((i) => i.label === 'Open Keyward').id;
  await gdbus(item.bus, menu, 'com.canonical.dbusmenu.Event', String(open), 'clicked', '<int32 0>', '0');
  await d.until('the window is back', async () => (await mainWindow(pid))?.viewable === true, 15000);
  assert.equal(await d.exec('return document.querySelectorAll("[data-testid=credential-row]").length'), 1);

  // Closed again, a second launch brings it back too, and exits.
  await closeWindow(pid);
  await d.until('hidden again', async () => (await mainWindow(pid))?.viewable === false, 15000);
  const second = spawn(APP, [], { env: { ...process.env, ...watchEnv }, stdio: 'ignore' });
  const code = await Promise.race([new Promise((r) => second.once('exit', r)), sleep(30000).then(() => 'still running')]);
  if (code === 'still running') second.kill('SIGKILL');
  assert.equal(code, 0, 'the second launch handed over and exited');
  await d.until('the window is back after a second launch', async () => (await mainWindow(pid))?.viewable === true, 15000);

  // A new sign-in on the server, from a browser the server sees by its user agent and address,
  // with markup in its name. Some rounds of the watch first, so it is news and not a change the
  // watch found pending when it started.
  await sleep(7000);
  const before = new Set((await notificationsShown()).map((n) => n.id));
  const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
  const ip = '198.51.100.77';
  const signIn = await http('POST', `${SYNAPSE}/_matrix/client/v3/login`, {
    ip,
    ua,
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: wUser }, password: wPass, initial_device_display_name: '<b>Work laptop</b> & co' },
  });
  assert.equal(signIn.status, 200, signIn.text);
  const token = signIn.json.access_token;
  assert.equal((await http('GET', `${SYNAPSE}/_matrix/client/v3/account/whoami`, { token, ip, ua })).status, 200);

  const ours = (list) => list.filter((n) => !before.has(n.id) && n.summary.includes(`${wUser}@`));
  let shown = [];
  await d.until('a notification of the new sign-in', async () => (shown = ours(await notificationsShown())).length > 0 || JSON.stringify(await notificationsShown()), 60000);
  const [n] = shown;
  console.log(`# dunst showed: ${JSON.stringify(n)}`);
  assert.match(n.summary, new RegExp(`^New sign-in to ${wUser}@`), n.summary);
  assert.match(n.body, /Work laptop/, `the device's name: ${n.body}`);
  assert.match(n.body, /Firefox/, `the client, from its user agent: ${n.body}`);
  assert.match(n.body, /Windows/, `its system: ${n.body}`);
  assert.match(n.body, /198\.51\.100\.77/, `its address: ${n.body}`);
  for (const m of ours(await notificationsShown())) {
    const text = `${m.summary}\n${m.body}`;
    assert.ok(!/[<>&]/.test(text), `no markup: ${text}`);
    assert.ok(!text.includes(token) && !text.includes(wPass), `no token, no password: ${text}`);
    assert.ok(!/syt_|[A-Za-z0-9+/_=-]{24,}/.test(text), `nothing like a secret: ${text}`);
  }
  // Told once, however many rounds go by.
  await sleep(8000);
  assert.equal(ours(await notificationsShown()).filter((m) => m.body.includes('Work laptop')).length, 1, 'one notification for one sign-in');

  // Off: the tray item is hidden (passive, which hosts do not show, or gone), and closing the
  // window quits.
  assert.equal(await trayStatus(item), 'Active', 'shown while on');
  await d.click(await d.find('[data-testid="background-watch-toggle"]'));
  await d.until('the switch is off', async () => (await d.exec('return document.querySelector("[data-testid=background-watch-toggle]").checked')) === false);
  const hidden = async () => {
    const left = await trayItemsOf(pid);
    return left.length === 0 || (await Promise.all(left.map(trayStatus))).every((st) => st === 'Passive') || JSON.stringify(await Promise.all(left.map(trayStatus)));
  };
  await d.until('the tray item is hidden', hidden, 20000);
  // On again, the icon is back (one item, shown), and Quit in its menu ends the app.
  const toggleTo = async (on) => {
    await d.click(await d.find('[data-testid="background-watch-toggle"]'));
    await d.until(`the switch is ${on ? 'on' : 'off'}`, async () => (await d.exec('return document.querySelector("[data-testid=background-watch-toggle]").checked')) === on);
  };
  await toggleTo(true);
  await d.until('one tray item, shown again', async () => {
    const again = await trayItemsOf(pid);
    return (again.length === 1 && (await trayStatus(again[0])) === 'Active') || JSON.stringify(again);
  }, 20000);
  const quit = items.find((i) => i.label === 'Quit').id;
  await gdbus(item.bus, menu, 'com.canonical.dbusmenu.Event', String(quit), 'clicked', '<int32 0>', '0');
  await d.until('the app quit from the tray menu', async () => !alive(pid), 20000);
  await d.stop();

  // The next start remembers the watch: the icon is there at once. Off, closing quits.
  d = newDriver(watchEnv);
  await d.start();
  await d.until('both sessions listed again (Keyward\'s own and the new sign-in)', async () => (await d.findAll('[data-testid="credential-row"]')).length === 2, 60000);
  const pid2 = appPid(d);
  assert.equal(await d.exec('return document.querySelector("[data-testid=background-watch-toggle]").checked'), true, 'the switch is still on');
  await d.until('the tray item is there at start', async () => {
    const at = await trayItemsOf(pid2);
    return (at.length === 1 && (await trayStatus(at[0])) === 'Active') || JSON.stringify(at);
  }, 20000);
  await toggleTo(false);
  const hidden2 = async () => {
    const left = await trayItemsOf(pid2);
    return left.length === 0 || (await Promise.all(left.map(trayStatus))).every((st) => st === 'Passive') || JSON.stringify(await Promise.all(left.map(trayStatus)));
  };
  await d.until('the tray item is hidden again', hidden2, 20000);
  assert.equal(await closeWindow(pid2), '1\n', 'one window asked to close');
  await d.until('the app quit when its window closed', async () => !alive(pid2), 20000);
  await d.stop();
  d = null;
});
