// The only place the web view talks to the app. Every call is one Tauri command (src-tauri/src/main.rs),
// typed here; errors come back as ApiError. Secrets (passwords, tokens) are passed straight through
// and never kept.

import { invoke } from '@tauri-apps/api/core';
import type {
  AccountListing,
  AddRequest,
  ApiError,
  Detected,
  KindView,
  RevokeAnswer,
  UiSettings,
} from './types';

/** Turns anything thrown by invoke into an ApiError. */
export function asApiError(e: unknown): ApiError {
  if (e && typeof e === 'object' && 'message' in e && 'code' in e) return e as ApiError;
  if (typeof e === 'string') return { code: 'internal', message: e };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asApiError(e);
  }
}

export const api = {
  accounts: () => call<AccountListing[]>('accounts'),
  refreshAccount: (accountId: string) => call<AccountListing>('refresh_account', { account_id: accountId }),
  kinds: () => call<KindView[]>('kinds'),
  detect: (url: string) => call<Detected>('detect', { url }),
  addAccount: (request: AddRequest) => call<AccountListing>('add_account', { request }),
  removeAccount: (accountId: string, signOut: boolean) =>
    call<void>('remove_account', { account_id: accountId, sign_out: signOut }),
  rename: (accountId: string, credentialId: string, name: string) =>
    call<AccountListing>('rename', { account_id: accountId, credential_id: credentialId, name }),
  revoke: (accountId: string, ids: string[], password: string | null, includeOwn: boolean) =>
    call<RevokeAnswer>('revoke', { request: { account_id: accountId, ids, password, include_own: includeOwn } }),
  revokeAllOthers: (accountId: string, password: string | null) =>
    call<RevokeAnswer>('revoke_all_others', { request: { account_id: accountId, password } }),
  setLabel: (accountId: string, label: string) => call<AccountListing>('set_label', { account_id: accountId, label }),
  uiSettings: () => call<UiSettings>('ui_settings'),
  /** Opens a server's page in the system browser (http and https only). */
  openUrl: (url: string) => {
    if (!/^https?:\/\//i.test(url)) return Promise.reject(asApiError({ code: 'input', message: `not a web page: ${url}` }));
    return call<void>('plugin:opener|open_url', { url });
  },
};

export type Api = typeof api;
