import { describe, expect, it } from 'vitest';
import { flatten, NO_FILTERS, offsets, visibleRange } from '../lib/listing';
import { listing, row } from './fixtures';

describe('listing', () => {
  const a = listing('a', 'alice', [
    row({ id: 'old', name: 'Old phone', last_used: '2025-01-01T00:00:00Z', badges: ['inactive'] }),
    row({ id: 'me', name: 'Keyward', current: true, last_used: null, badges: ['this_app'] }),
    row({ id: 'new', name: 'Laptop', last_used: '2026-11-22T12:00:00Z' }),
    row({ id: 'tok', kind: 'api_token', name: 'CI token', last_used: null, badges: ['never_used'], client_info: null }),
  ]);
  const b = listing('b', 'bob', [row({ id: 'x', name: 'Bob laptop' })]);

  it('groups by account then kind, this app first, then most recently used', () => {
    const items = flatten([a, b], NO_FILTERS, 'recent');
    expect(items.map((i) => (i.type === 'row' ? i.row.id : `${i.type}:${i.title}`))).toEqual([
      'account:alice',
      'kind:Sessions',
      'me',
      'new',
      'old',
      'kind:API tokens',
      'tok',
      'account:bob',
      'kind:Sessions',
      'x',
    ]);
  });

  it('filters by inactive, never used, unrecognised, kind, account and words', () => {
    const ids = (f: Partial<typeof NO_FILTERS>) =>
      flatten([a, b], { ...NO_FILTERS, ...f }, 'recent').flatMap((i) => (i.type === 'row' ? [i.row.id] : []));
    expect(ids({ inactive: true })).toEqual(['old']);
    expect(ids({ neverUsed: true })).toEqual(['tok']);
    expect(ids({ unrecognised: true })).toEqual(['tok']);
    expect(ids({ kind: 'api_token' })).toEqual(['tok']);
    expect(ids({ accountId: 'b' })).toEqual(['x']);
    expect(ids({ query: 'bob LAPTOP' })).toEqual(['x']);
    expect(ids({ query: '203.0.113.7' }).length).toBe(5);
  });

  it('finds the visible window of a long list by binary search', () => {
    const many = listing(
      'm',
      'many',
      Array.from({ length: 5000 }, (_, i) => row({ id: `d${i}`, name: `Device ${i}` })),
    );
    const items = flatten([many], NO_FILTERS, 'name');
    const tops = offsets(items);
    const [start, end] = visibleRange(tops, 68 * 2500, 680, 5);
    expect(end - start).toBeLessThan(30);
    expect(tops[start]).toBeLessThanOrEqual(68 * 2500);
    expect(tops[end]).toBeGreaterThanOrEqual(68 * 2500 + 680);
  });
});
