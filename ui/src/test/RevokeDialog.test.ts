import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import RevokeDialog from '../components/RevokeDialog.svelte';
import { listing, row } from './fixtures';

function fakeApi(over: Record<string, unknown> = {}) {
  return {
    revoke: vi.fn(async (accountId: string, ids: string[]) => ({
      report: { account: accountId, results: ids.map((id) => ({ id, error: null })), signed_out: false },
      listing: listing(accountId, accountId, []),
    })),
    revokeAllOthers: vi.fn(),
    ...over,
  } as any;
}

describe('RevokeDialog', () => {
  const a = listing('a', 'alice', [row({ id: 'A1', name: 'Phone' }), row({ id: 'A2', name: 'Laptop' })]);
  const b = listing('b', 'bob', [row({ id: 'B1', name: 'Tablet' })]);
  const rows = [...a.rows, ...b.rows];

  it('lists exactly what goes and asks once per account for the password', async () => {
    const api = fakeApi();
    render(RevokeDialog, { props: { rows, listings: [a, b], onlisting() {}, onclose() {}, api } });
    expect(screen.getAllByTestId('revoke-item').map((li) => li.dataset.credId)).toEqual(['A1', 'A2', 'B1']);
    const pws = screen.getAllByTestId('revoke-password');
    expect(pws.length).toBe(2);
    await fireEvent.input(pws[0], { target: { value: 'pa' } });
    await fireEvent.input(pws[1], { target: { value: 'pb' } });
    await fireEvent.click(screen.getByTestId('revoke-confirm'));
    await waitFor(() => expect(screen.getAllByTestId('revoke-result').length).toBe(3));
    expect(api.revoke).toHaveBeenCalledWith('a', ['A1', 'A2'], 'pa', false);
    expect(api.revoke).toHaveBeenCalledWith('b', ['B1'], 'pb', false);
    expect(screen.getAllByTestId('revoke-result').map((r) => r.textContent)).toEqual(['Done', 'Done', 'Done']);
  });

  it('revokes nothing without the password, and says so next to the field', async () => {
    const api = fakeApi();
    render(RevokeDialog, { props: { rows: a.rows, listings: [a], onlisting() {}, onclose() {}, api } });
    await fireEvent.click(screen.getByTestId('revoke-confirm'));
    expect(api.revoke).not.toHaveBeenCalled();
    expect(screen.getByRole('alert').textContent).toMatch(/password/);
  });

  it('shows a failure per item and lets the user try a wrong password again', async () => {
    const api = fakeApi({
      revoke: vi.fn(async () => {
        throw { code: 'wrong_password', message: 'wrong username or password for alice; nothing was changed' };
      }),
    });
    render(RevokeDialog, { props: { rows: a.rows, listings: [a], onlisting() {}, onclose() {}, api } });
    await fireEvent.input(screen.getByTestId('revoke-password'), { target: { value: 'nope' } });
    await fireEvent.click(screen.getByTestId('revoke-confirm'));
    await waitFor(() => expect(screen.getAllByTestId('revoke-result').length).toBe(2));
    expect(screen.getAllByTestId('revoke-result')[0].textContent).toMatch(/^Failed: wrong username or password/);
    expect((screen.getByTestId('revoke-password') as HTMLInputElement).value).toBe('');
    expect(screen.getByTestId('revoke-confirm').textContent).toMatch(/Try again/);
  });

  it('warns when Keyward’s own session is among them and says so to the app', async () => {
    const api = fakeApi();
    const own = [row({ id: 'ME', name: 'Keyward on box', current: true, account_id: 'a', account: 'alice' })];
    render(RevokeDialog, { props: { rows: own, listings: [a], onlisting() {}, onclose() {}, api } });
    expect(screen.getByText(/Keyward will be signed out of alice/)).toBeTruthy();
    await fireEvent.input(screen.getByTestId('revoke-password'), { target: { value: 'pa' } });
    await fireEvent.click(screen.getByTestId('revoke-confirm'));
    await waitFor(() => expect(api.revoke).toHaveBeenCalledWith('a', ['ME'], 'pa', true));
  });

  it('calls an item the core did not report a failure, never done', async () => {
    // The core answers for A1 only: A2's fate is unknown, so it must not read as done.
    const api = fakeApi({
      revoke: vi.fn(async (accountId: string) => ({
        report: { account: accountId, results: [{ id: 'A1', error: null }], signed_out: false },
        listing: listing(accountId, accountId, []),
      })),
    });
    render(RevokeDialog, { props: { rows: a.rows, listings: [a], onlisting() {}, onclose() {}, api } });
    await fireEvent.input(screen.getByTestId('revoke-password'), { target: { value: 'pa' } });
    await fireEvent.click(screen.getByTestId('revoke-confirm'));
    await waitFor(() => expect(screen.getAllByTestId('revoke-result').length).toBe(2));
    const [first, second] = screen.getAllByTestId('revoke-result');
    expect(first.textContent).toBe('Done');
    expect(second.textContent).toMatch(/^Failed/);
    expect(second.closest('li')?.dataset.credId).toBe('A2');
  });
});
