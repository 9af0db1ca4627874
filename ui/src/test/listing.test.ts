import { describe, expect, it } from 'vitest';
import { flatten, NO_FILTERS, offsets, visibleRange } from '../lib/listing';
import { listing, row } from './fixtures';

describe('listing', () => {
  // The core ranks the rows (view.rs); the list only follows the ranks it is given.
  const a = listing('a', 'alice', [
    row({ id: 'old', name: 'Old phone', badges: ['inactive'], sort: { recent: 2, oldest: 1, name: 3 } }),
    row({ id: 'me', name: 'Keyward', current: true, badges: ['this_app'], sort: { recent: 0, oldest: 0, name: 0 } }),
    row({ id: 'new', name: 'Laptop', sort: { recent: 1, oldest: 2, name: 2 } }),
    row({
      id: 'tok',
      kind: 'api_token',
      kind_noun: 'API token',
      kind_plural: 'API tokens',
      name: 'CI token',
      badges: ['never_used', 'unrecognised'],
      client_info: null,
      sort: { recent: 3, oldest: 3, name: 1 },
    }),
    row({ id: 'odd', name: 'Odd client', client_info: { name: 'zz', form: 'unknown', recognised: false }, sort: { recent: 4, oldest: 4, name: 4 } }),
  ]);
  const b = listing('b', 'bob', [row({ id: 'x', name: 'Bob laptop' })]);
  const order = (o: 'recent' | 'oldest' | 'name') =>
    flatten([a, b], NO_FILTERS, o).map((i) => (i.type === 'row' ? i.row.id : `${i.type}:${i.title}`));

  it('groups by account then kind, titled with the core’s words, rows in the core’s order', () => {
    expect(order('recent')).toEqual(['account:alice', 'kind:Sessions', 'me', 'new', 'old', 'odd', 'kind:API tokens', 'tok', 'account:bob', 'kind:Sessions', 'x']);
    expect(order('oldest')).toEqual(['account:alice', 'kind:Sessions', 'me', 'old', 'new', 'odd', 'kind:API tokens', 'tok', 'account:bob', 'kind:Sessions', 'x']);
    expect(order('name')).toEqual(['account:alice', 'kind:Sessions', 'me', 'new', 'old', 'odd', 'kind:API tokens', 'tok', 'account:bob', 'kind:Sessions', 'x']);
  });

  it('filters only by the badges the core gave, the kind, the account and words', () => {
    const ids = (f: Partial<typeof NO_FILTERS>) =>
      flatten([a, b], { ...NO_FILTERS, ...f }, 'recent').flatMap((i) => (i.type === 'row' ? [i.row.id] : []));
    expect(ids({ inactive: true })).toEqual(['old']);
    expect(ids({ neverUsed: true })).toEqual(['tok']);
    // "odd" has an unrecognised client but no badge from the core: the UI does not decide.
    expect(ids({ unrecognised: true })).toEqual(['tok']);
    expect(ids({ kind: 'api_token' })).toEqual(['tok']);
    expect(ids({ accountId: 'b' })).toEqual(['x']);
    expect(ids({ query: 'bob LAPTOP' })).toEqual(['x']);
    expect(ids({ query: '203.0.113.7' }).length).toBe(6);
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
