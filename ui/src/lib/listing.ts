// Filtering, ordering and grouping of credential rows for the list, as pure functions (tested in
// listing.test.ts). The list is flattened into headers and rows of fixed heights so it can be
// virtualised. No rule lives here: a filter only tests a badge the core gave, an order only reads
// the rank the core gave each row (`row.sort`), and group titles are the core's words.

import type { AccountListing, CredentialRow, SortKeys } from './bindings';

/** The orders the core ranks rows in. */
export type SortOrder = keyof SortKeys;

export interface Filters {
  query: string;
  kind: string; // '' = every kind
  inactive: boolean;
  neverUsed: boolean;
  unrecognised: boolean;
  accountId: string | null; // null = all accounts
}

export const NO_FILTERS: Filters = {
  query: '',
  kind: '',
  inactive: false,
  neverUsed: false,
  unrecognised: false,
  accountId: null,
};

/** A stable key for a row across accounts. */
export function rowKey(r: Pick<CredentialRow, 'account_id' | 'id'>): string {
  return `${r.account_id}\u0000${r.id}`;
}

export function matches(r: CredentialRow, f: Filters): boolean {
  if (f.accountId && r.account_id !== f.accountId) return false;
  if (f.kind && r.kind !== f.kind) return false;
  if (f.inactive && !r.badges.includes('inactive')) return false;
  if (f.neverUsed && !r.badges.includes('never_used')) return false;
  if (f.unrecognised && !r.badges.includes('unrecognised')) return false;
  const q = f.query.trim().toLowerCase();
  if (q) {
    const hay = [r.title, r.summary, r.client, r.id, r.last_ip, r.account].filter(Boolean).join('\n').toLowerCase();
    if (!q.split(/\s+/).every((word) => hay.includes(word))) return false;
  }
  return true;
}

/** Any filter but the account is on. */
export function isFiltered(f: Filters): boolean {
  return f.query !== '' || f.kind !== '' || f.inactive || f.neverUsed || f.unrecognised;
}

/** Rows in the core's order: each row carries its rank within its account for every order. */
export function compare(order: SortOrder): (a: CredentialRow, b: CredentialRow) => number {
  return (a, b) => a.sort[order] - b.sort[order];
}

export type Item =
  | { type: 'account'; key: string; accountId: string; title: string; count: number }
  | { type: 'kind'; key: string; accountId: string; title: string; count: number }
  | { type: 'row'; key: string; row: CredentialRow };

/** Headers for each account and each kind within it, then its rows: what the list draws. */
export function flatten(listings: AccountListing[], f: Filters, order: SortOrder): Item[] {
  const items: Item[] = [];
  const cmp = compare(order);
  for (const l of listings) {
    if (f.accountId && l.account.id !== f.accountId) continue;
    const rows = l.rows.filter((r) => matches(r, f));
    if (rows.length === 0) continue;
    items.push({ type: 'account', key: `a:${l.account.id}`, accountId: l.account.id, title: l.account.name, count: rows.length });
    const byKind = new Map<string, CredentialRow[]>();
    for (const r of rows) {
      const list = byKind.get(r.kind) ?? [];
      list.push(r);
      byKind.set(r.kind, list);
    }
    for (const [kind, list] of byKind) {
      items.push({ type: 'kind', key: `k:${l.account.id}:${kind}`, accountId: l.account.id, title: list[0].kind_plural, count: list.length });
      for (const r of list.sort(cmp)) items.push({ type: 'row', key: rowKey(r), row: r });
    }
  }
  return items;
}

export const ROW_HEIGHT = 68;
export const HEADER_HEIGHT = 44;
export const KIND_HEIGHT = 32;

export function itemHeight(i: Item): number {
  return i.type === 'row' ? ROW_HEIGHT : i.type === 'account' ? HEADER_HEIGHT : KIND_HEIGHT;
}

/** Offsets of each item's top, plus the total height at the end. */
export function offsets(items: Item[]): number[] {
  const out = new Array<number>(items.length + 1);
  let y = 0;
  for (let i = 0; i < items.length; i++) {
    out[i] = y;
    y += itemHeight(items[i]);
  }
  out[items.length] = y;
  return out;
}

/** The range [start, end) of items that intersect the viewport, with `overscan` extra each side. */
export function visibleRange(tops: number[], scrollTop: number, height: number, overscan = 6): [number, number] {
  const n = tops.length - 1;
  if (n <= 0) return [0, 0];
  // binary search for the first item whose bottom is below scrollTop
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tops[mid + 1] <= scrollTop) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  while (end < n && tops[end] < scrollTop + height) end++;
  return [Math.max(0, lo - overscan), Math.min(n, end + overscan)];
}
