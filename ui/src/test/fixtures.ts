// Rows and listings shaped like the core's (src/view.rs), for component tests.
import type { AccountListing, CredentialRow } from '../lib/types';

export function row(over: Partial<CredentialRow> = {}): CredentialRow {
  return {
    account: 'alice@127.0.0.1:8008',
    account_id: 'acc1',
    account_kind: 'matrix',
    id: 'DEV1',
    kind: 'session',
    name: 'Element Desktop: macOS',
    client: 'Element Desktop',
    client_info: { name: 'Element Desktop', os: 'macOS', form: 'desktop_app', recognised: true },
    summary: 'Element Desktop on macOS · active 2 hours ago · 203.0.113.7',
    badges: [],
    created: null,
    last_used: '2026-11-22T12:00:00Z',
    last_used_meaning: 'used',
    last_ip: '203.0.113.7',
    expires: null,
    current: false,
    can_rename: true,
    can_revoke: true,
    revoke_needs_password: true,
    revoke_warning: null,
    why_not: null,
    manage_url: null,
    restrictions: [],
    usage: [],
    details: [],
    ...over,
  };
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
      login: 'alice',
      user_id: '@alice:localhost',
      signed_in: true,
      server_facts: [],
      fetched: '2026-11-22T12:00:00Z',
      gaps: [],
      account_actions: { revoke_all_others: true, revoke_all_others_needs_password: true },
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
      },
    },
    rows: rows.map((r) => ({ ...r, account_id: id, account: name })),
  };
}
