// The shapes the core sends (src/view.rs, src/service.rs in the Rust core). Keep in step with them.

export type Kind = string;
export type CredentialKind = 'session' | 'api_token' | 'oauth_grant' | 'app_password' | 'push_registration' | 'key';
export type Badge = 'this_app' | 'inactive' | 'never_used' | 'expires_soon' | 'expired' | 'no_expiry' | 'unrecognised';
export type LastUsedMeaning = 'used' | 'refreshed' | 'modified' | 'used_day';
export type Form = 'browser' | 'desktop_app' | 'mobile_app' | 'sync' | 'script' | 'integration' | 'unknown';

export interface Fact {
  label: string;
  value: string;
}

export interface Client {
  name: string;
  version?: string;
  os?: string;
  device?: string;
  form: Form;
  recognised: boolean;
}

/** A time the summary speaks of, in both forms, worded by the core (newer cores send these). */
export interface Moment {
  label: string;
  at: string;
  relative: string;
  absolute: string;
}

export interface Usage {
  hints: Record<string, string>;
  last_used?: string;
  ip?: string;
}

export interface CredentialRow {
  account: string;
  account_id: string;
  account_kind: Kind;
  id: string;
  kind: CredentialKind;
  name: string | null;
  client: string | null;
  client_info: Client | null;
  summary: string;
  badges: Badge[];
  times?: Moment[];
  created: string | null;
  last_used: string | null;
  last_used_meaning: LastUsedMeaning;
  last_ip: string | null;
  expires: string | null;
  current: boolean;
  can_rename: boolean;
  can_revoke: boolean;
  revoke_needs_password: boolean;
  revoke_warning: string | null;
  why_not: string | null;
  manage_url: string | null;
  restrictions: string[];
  usage: Usage[];
  details: Fact[];
}

export interface Capabilities {
  sign_in: ('password' | 'token')[];
  token_label: string;
  token_page: string | null;
  rename: boolean;
  revoke: boolean;
  revoke_many: boolean;
  revoke_all_others: boolean;
  revoke_needs_password: boolean;
  sign_out: boolean;
}

export interface Gap {
  message: string;
  url?: string;
}

export interface AccountActions {
  revoke_all_others: boolean;
  revoke_all_others_needs_password: boolean;
  manage_url?: string;
}

export interface AccountView {
  id: string;
  name: string;
  label: string | null;
  kind: Kind;
  kind_name: string;
  base_url: string;
  login: string;
  user_id: string;
  signed_in: boolean;
  server_facts: Fact[];
  fetched: string | null;
  gaps: Gap[];
  account_actions: AccountActions;
  capabilities: Capabilities;
}

export interface AccountListing {
  account: AccountView;
  rows: CredentialRow[];
}

export interface KindView {
  kind: Kind;
  display_name: string;
  capabilities: Capabilities;
}

export interface Detected extends KindView {
  base_url: string;
}

export interface Revoked {
  id: string;
  error: string | null;
}

export interface RevokeReport {
  account: string;
  results: Revoked[];
  signed_out: boolean;
}

export interface RevokeAnswer {
  report: RevokeReport;
  listing: AccountListing;
}

/** An error from the core: a short code, one plain sentence, and a page to open when there is one. */
export interface ApiError {
  code: string;
  message: string;
  url?: string | null;
}

export interface AddRequest {
  url: string;
  kind: Kind | null;
  login: string;
  secret: string;
  secret_is_token: boolean;
  label: string | null;
}

export interface UiSettings {
  theme: 'light' | 'dark' | null;
}
