import { fireEvent, render } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import CredentialList from '../components/CredentialList.svelte';
import { NO_FILTERS } from '../lib/listing';
import { listing, row } from './fixtures';

const many = listing(
  'm',
  'many',
  Array.from({ length: 5000 }, (_, i) => row({ id: `d${i}`, name: `Device ${String(i).padStart(4, '0')}` })),
);

describe('CredentialList', () => {
  it('keeps only the rows in view in the DOM, even with 5,000 devices', () => {
    const { container } = render(CredentialList, {
      props: { listings: [many], filters: NO_FILTERS, order: 'name', selected: new Set<string>(), onopen() {}, ontoggle() {}, ondelete() {} },
    });
    const rows = container.querySelectorAll('[data-testid="credential-row"]');
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(40);
  });

  it('moves with the arrows, opens with Enter, selects with Space and asks to revoke with Delete', async () => {
    const onopen = vi.fn();
    const ontoggle = vi.fn();
    const ondelete = vi.fn();
    const { getByTestId } = render(CredentialList, {
      props: { listings: [many], filters: NO_FILTERS, order: 'name', selected: new Set<string>(), onopen, ontoggle, ondelete },
    });
    const list = getByTestId('credential-list');
    await fireEvent.focus(list);
    await fireEvent.keyDown(list, { key: 'ArrowDown' });
    await fireEvent.keyDown(list, { key: 'Enter' });
    expect(onopen).toHaveBeenCalledWith(expect.objectContaining({ id: 'd1' }), true);
    await fireEvent.keyDown(list, { key: ' ' });
    expect(ontoggle).toHaveBeenCalledWith(expect.objectContaining({ id: 'd1' }));
    await fireEvent.keyDown(list, { key: 'Delete' });
    expect(ondelete).toHaveBeenCalledWith(expect.objectContaining({ id: 'd1' }));
    expect(list.getAttribute('aria-activedescendant')).toBeTruthy();
  });
});
