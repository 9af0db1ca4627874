// Rows and listings shaped like the core's (src/view.rs, typed by the generated bindings), for
// component tests.
import type { AccountListing, CredentialRow, SignInChoice } from '../lib/bindings';

export function row(over: Partial<CredentialRow> = {}): CredentialRow {
  const base: CredentialRow = {
    account: 'alice@127.0.0.1:8008',
    account_id: 'acc1',
    account_kind: 'matrix',
    id: 'DEV1',
    kind: 'session',
    kind_noun: 'session',
    kind_plural: 'Sessions',
    guide: 'A session is a device or browser that is signed in to your account.',
    name: 'Element Desktop: macOS',
    title: 'Element Desktop: macOS',
    client: 'Element Desktop',
    client_info: { name: 'Element Desktop', os: 'macOS', form: 'desktop_app', recognised: true },
    summary: 'Element Desktop on macOS · active 2 hours ago · 203.0.113.7',
    badges: [],
    times: [],
    created: null,
    last_used: '2026-11-22T12:00:00Z',
    last_used_meaning: 'used',
    last_ip: '203.0.113.7',
    expires: null,
    current: false,
    can_rename: true,
    can_revoke: true,
    revoke_needs_password: true,
    revoke_verb: 'sign_out',
    revoke_warning: null,
    why_not: null,
    manage_url: null,
    revoke_in_browser: false,
    pending: null,
    restrictions: [],
    usage: [],
    used_by: [],
    details: [],
    // -1: `listing` gives the row its position in the list it is made for.
    sort: { recent: -1, oldest: -1, name: -1 },
  } as CredentialRow;
  const r = { ...base, ...over };
  if (over.name !== undefined && over.title === undefined) r.title = over.name ?? `Unnamed ${r.kind_noun}`;
  return r;
}

export function listing(id: string, name: string, rows: CredentialRow[]): AccountListing {
  return {
    account: {
      id,
      name,
      label: null,
      kind: 'matrix',
      kind_name: 'Matrix',
      base_url: 'http://127.0.0.1:8008',
      insecure: false,
      login: 'alice',
      user_id: '@alice:localhost',
      signed_in: true,
      server_facts: [],
      fetched: '2026-11-22T12:00:00Z',
      listed: { label: 'Listed', at: '2026-11-22T12:00:00Z', relative: '5 minutes ago', absolute: '22 Nov 2026, 12:00' },
      gaps: [],
      account_actions: { revoke_all_others: true, revoke_all_others_needs_password: true },
      all_others: [],
      capabilities: {
        sign_in: ['password', 'token'],
        token_label: 'access token',
        token_page: null,
        rename: true,
        revoke: true,
        revoke_many: true,
        revoke_all_others: true,
        revoke_needs_password: true,
        sign_out: true,
        other_users: true,
      },
    },
    rows: rows.map((r, i) => ({ ...r, account_id: id, account: name, sort: r.sort.recent < 0 ? { recent: i, oldest: i, name: i } : r.sort })),
  } as AccountListing;
}

/** The identity providers of a Synapse with single sign-on, as `detect` gives them (the test
 *  homeserver of tests/matrix_sso.rs: two clients of one OpenID provider). */
export const identityProviders: SignInChoice[] = [
  { id: 'oidc-one', name: 'Test identity provider one' },
  { id: 'oidc-two', name: 'Test identity provider two' },
];
