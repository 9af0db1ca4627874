// The app's state: the accounts with their listings and each account's refresh status.
// Start-up shows the saved listings at once, then refreshes every account concurrently, one
// command per account, so each shows its own progress and a failing one blocks nothing.

import { api as realApi, asApiError, type Api } from './api';
import type { AccountListing, Remedy } from './bindings';

export type AccountStatus =
  | { state: 'idle' }
  | { state: 'refreshing' }
  | { state: 'needs_sign_in'; message: string }
  | { state: 'error'; message: string; remedy: Remedy | null };

export class KeywardState {
  /** Replaced whole on every change (raw: thousands of rows need no deep reactivity). */
  listings = $state.raw<AccountListing[]>([]);
  status = $state<Record<string, AccountStatus>>({});
  loaded = $state(false);
  loadError = $state<string | null>(null);

  constructor(private api: Api = realApi) {}

  async load(): Promise<void> {
    try {
      this.listings = await this.api.accounts();
      for (const l of this.listings) {
        this.status[l.account.id] = l.account.signed_in
          ? { state: 'idle' }
          : { state: 'needs_sign_in', message: `${l.account.name} must sign in again` };
      }
    } catch (e) {
      this.loadError = asApiError(e).message;
    }
    this.loaded = true;
  }

  refreshAll(): Promise<void[]> {
    return Promise.all(this.listings.filter((l) => l.account.signed_in).map((l) => this.refresh(l.account.id)));
  }

  async refresh(accountId: string): Promise<void> {
    if (this.status[accountId]?.state === 'refreshing') return;
    this.status[accountId] = { state: 'refreshing' };
    try {
      const fresh = await this.api.refreshAccount(accountId);
      this.put(fresh);
      this.status[accountId] = { state: 'idle' };
    } catch (e) {
      const err = asApiError(e);
      const signIn = err.remedy?.remedy === 'sign_in_again';
      this.status[accountId] = signIn
        ? { state: 'needs_sign_in', message: err.message }
        : { state: 'error', message: err.message, remedy: err.remedy };
      if (signIn) {
        this.listings = this.listings.map((l) =>
          l.account.id === accountId ? { ...l, account: { ...l.account, signed_in: false } } : l,
        );
      }
    }
  }

  /** Puts an account's listing in place (or adds it at the end), keeping the order. */
  put(listing: AccountListing): void {
    const i = this.listings.findIndex((l) => l.account.id === listing.account.id);
    this.listings = i < 0 ? [...this.listings, listing] : this.listings.map((l, j) => (j === i ? listing : l));
    if (!listing.account.signed_in) {
      this.status[listing.account.id] = { state: 'needs_sign_in', message: `${listing.account.name} must sign in again` };
    } else if (!this.status[listing.account.id] || this.status[listing.account.id].state !== 'refreshing') {
      this.status[listing.account.id] = { state: 'idle' };
    }
  }

  forget(accountId: string): void {
    this.listings = this.listings.filter((l) => l.account.id !== accountId);
    delete this.status[accountId];
  }

  account(accountId: string): AccountListing | undefined {
    return this.listings.find((l) => l.account.id === accountId);
  }
}
