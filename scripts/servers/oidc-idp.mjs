// A real OpenID Connect provider for the Matrix single sign-on tests: the npm `oidc-provider`
// package (a certified OpenID provider), with its own plain login and consent pages that a test
// fills with ordinary HTTP form posts, as a person in a browser would. Started by
// scripts/servers/synapse.sh in front of the Synapse configured with `oidc_providers`.
//
// Users: any lowercase name of letters, digits, '-' or '_' signs in with OIDC_IDP_PASSWORD (so each
// test makes its own user just by using a new name); any other password is refused on the page.
// Two clients, one per identity provider Synapse offers (OIDC_IDP_CLIENTS="id:secret,id:secret"),
// each allowed the one redirect URI OIDC_IDP_REDIRECT (Synapse's OIDC callback). Keys are made
// fresh at each start and kept in memory; nothing is stored.
//
//   OIDC_IDP_PORT=… OIDC_IDP_REDIRECT=… OIDC_IDP_CLIENTS=… OIDC_IDP_PASSWORD=… node oidc-idp.mjs

import http from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_IDP_PORT);
const issuer = `http://127.0.0.1:${port}`;
const password = process.env.OIDC_IDP_PASSWORD;
const redirect = process.env.OIDC_IDP_REDIRECT;
const clients = process.env.OIDC_IDP_CLIENTS.split(',').map((pair) => {
  const [client_id, client_secret] = pair.split(':');
  return { client_id, client_secret, redirect_uris: [redirect], grant_types: ['authorization_code'], response_types: ['code'] };
});
if (!port || !password || !redirect || !clients.length) {
  console.error('OIDC_IDP_PORT, OIDC_IDP_REDIRECT, OIDC_IDP_CLIENTS and OIDC_IDP_PASSWORD are needed');
  process.exit(2);
}

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), use: 'sig', alg: 'RS256', kid: 'test' };

const USER_NAME = /^[a-z0-9_-]{1,64}$/;

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [jwk] },
  cookies: { keys: [Math.random().toString(36).slice(2) + Date.now()] },
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
  // Synapse reads the user's name from the ID token as well as from userinfo.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    if (!USER_NAME.test(sub)) return undefined;
    return { accountId: sub, claims: async () => ({ sub, preferred_username: sub, name: `Test user ${sub}` }) };
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (res, status, title, body) => {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`);
};
const form = async (req) => {
  let raw = '';
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > 16384) break;
  }
  return new URLSearchParams(raw);
};

// GET /interaction/:uid          the login form (prompt "login") or the consent form ("consent")
// POST /interaction/:uid/login   login=NAME&password=…
// POST /interaction/:uid/confirm consent given
// POST /interaction/:uid/abort   the user says no: access_denied back to the client
async function interaction(req, res) {
  const [, , uid, step] = new URL(req.url, issuer).pathname.split('/');
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (e) {
    return page(res, 400, 'Sign-in expired', `<p>${esc(e.message)}</p>`);
  }
  const { prompt, params } = details;
  if (req.method === 'GET' && !step) {
    const abort = `<form method="post" action="/interaction/${esc(uid)}/abort"><button type="submit">Cancel</button></form>`;
    if (prompt.name === 'login') {
      return page(res, 200, 'Sign in to the test identity provider',
        `<form method="post" action="/interaction/${esc(uid)}/login">` +
        `<input name="login" autocomplete="username"><input name="password" type="password">` +
        `<button type="submit">Sign in</button></form>${abort}`);
    }
    return page(res, 200, 'Allow access',
      `<p>${esc(params.client_id)} asks to know who you are (${esc(prompt.details.missingOIDCScope?.join(' ') ?? '')}).</p>` +
      `<form method="post" action="/interaction/${esc(uid)}/confirm"><button type="submit">Allow</button></form>${abort}`);
  }
  if (req.method !== 'POST') return page(res, 405, 'Not here', '');
  if (step === 'login') {
    const f = await form(req);
    const login = f.get('login') ?? '';
    if (!USER_NAME.test(login) || f.get('password') !== password) {
      return page(res, 403, 'Wrong user name or password', '<p>Try again.</p>');
    }
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }
  if (step === 'confirm') {
    const { details: missing } = prompt;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (step === 'abort') {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user said no' }, { mergeWithLastSubmission: false });
  }
  return page(res, 404, 'Not here', '');
}

const callback = provider.callback();
http
  .createServer((req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interaction(req, res).catch((e) => {
        console.error(e);
        if (!res.headersSent) page(res, 500, 'Error', `<p>${esc(e.message)}</p>`);
      });
    } else {
      callback(req, res);
    }
  })
  .listen(port, '127.0.0.1', () => console.log(`oidc-provider up at ${issuer}`));
