import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import DetailsPane from '../components/DetailsPane.svelte';
import { row } from './fixtures';

const noop = () => {};

describe('DetailsPane', () => {
  it('shows every field with absolute and relative times', () => {
    render(DetailsPane, {
      props: {
        row: row({
          created: '2026-01-02T03:04:05Z',
          times: [
            { label: 'Last active', at: '2026-11-22T12:00:00Z', relative: '2 hours ago', absolute: '22 Nov 2026, 12:00' },
            { label: 'Created', at: '2026-01-02T03:04:05Z', relative: '10 months ago', absolute: '2 Jan 2026, 03:04' },
          ],
          details: [{ label: 'User', value: '@alice:localhost' }],
        }),
        onrename: async () => {},
        onrevoke: noop,
        onopenurl: noop,
        onclose: noop,
      },
    });
    expect(screen.getByText('DEV1')).toBeTruthy();
    expect(screen.getByText('203.0.113.7')).toBeTruthy();
    expect(screen.getByText('@alice:localhost')).toBeTruthy();
    expect(screen.getByText('Created')).toBeTruthy();
    expect(document.querySelectorAll('.abs').length).toBeGreaterThanOrEqual(2);
  });

  it('offers exactly the actions that apply', () => {
    render(DetailsPane, {
      props: {
        row: row({ can_rename: false, can_revoke: false, why_not: 'The server offers no way to do this.' }),
        onrename: async () => {},
        onrevoke: noop,
        onopenurl: noop,
        onclose: noop,
      },
    });
    expect(screen.queryByTestId('rename')).toBeNull();
    expect(screen.queryByTestId('revoke-one')).toBeNull();
    expect(screen.getByText('The server offers no way to do this.')).toBeTruthy();
  });

  it('renames inline and shows a failure next to the field', async () => {
    const onrename = vi.fn(async () => {
      throw { code: 'server', message: 'the name is too long' };
    });
    render(DetailsPane, { props: { row: row(), onrename, onrevoke: noop, onopenurl: noop, onclose: noop } });
    await fireEvent.click(screen.getByTestId('rename'));
    const input = screen.getByTestId('rename-input') as HTMLInputElement;
    expect(input.value).toBe('Element Desktop: macOS');
    await fireEvent.input(input, { target: { value: 'Work laptop' } });
    await fireEvent.click(screen.getByTestId('rename-save'));
    expect(onrename).toHaveBeenCalledWith('Work laptop');
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('the name is too long'));
  });
});

describe('DetailsPane with the core’s own words', () => {
  it('lists who used it as the core words them', () => {
    render(DetailsPane, {
      props: {
        row: row({
          used_by: [
            { who: 'Firefox on Linux', ip: '198.51.100.4', last_used: { label: 'Last used', at: '2026-11-21T12:00:00Z', relative: 'yesterday', absolute: '21 Nov 2026, 12:00' } },
            { who: 'Unknown client', ip: null, last_used: null },
          ],
        }),
        onrename: async () => {},
        onrevoke: noop,
        onopenurl: noop,
        onclose: noop,
      },
    });
    expect(screen.getByText('Firefox on Linux')).toBeTruthy();
    expect(screen.getByText(/yesterday \(21 Nov 2026, 12:00\)/)).toBeTruthy();
    expect(screen.getByText('Unknown client')).toBeTruthy();
  });

  it('names the revoke button by what the core says revoking does', () => {
    render(DetailsPane, { props: { row: row({ kind: 'api_token', revoke_verb: 'replace' }), onrename: async () => {}, onrevoke: noop, onopenurl: noop, onclose: noop } });
    expect(screen.getByTestId('revoke-one').textContent).toBe('Replace…');
  });

  it('isolates server text and keeps all of a long name', () => {
    const long = '\u202Eevil' + 'x'.repeat(10_000);
    render(DetailsPane, { props: { row: row({ name: long }), onrename: async () => {}, onrevoke: noop, onopenurl: noop, onclose: noop } });
    const title = screen.getByTestId('details-title');
    expect(title.querySelector('bdi')?.textContent).toBe(long);
    expect(title.getAttribute('dir')).toBe('auto');
  });

  it('shows each time as the core words it, relative beside absolute', () => {
    render(DetailsPane, {
      props: {
        row: row({
          times: [{ label: 'Last active', at: '2026-11-22T12:00:00Z', relative: '2 hours ago', absolute: '22 Nov 2026, 12:00 UTC' }],
        }),
        onrename: async () => {},
        onrevoke: noop,
        onopenurl: noop,
        onclose: noop,
      },
    });
    expect(screen.getByText('Last active')).toBeTruthy();
    expect(screen.getByText('(22 Nov 2026, 12:00 UTC)')).toBeTruthy();
  });
});
