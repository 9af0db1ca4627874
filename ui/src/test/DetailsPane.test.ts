import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import DetailsPane from '../components/DetailsPane.svelte';
import { row } from './fixtures';

const noop = () => {};

describe('DetailsPane', () => {
  it('shows every field with absolute and relative times', () => {
    render(DetailsPane, {
      props: {
        row: row({ created: '2026-01-02T03:04:05Z', details: [{ label: 'User', value: '@alice:localhost' }] }),
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

describe('DetailsPane with the core’s own wording of times', () => {
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
