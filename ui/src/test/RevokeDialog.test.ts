import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import RevokeDialog from '../components/RevokeDialog.svelte';
import { listing, row } from './fixtures';

function fakeApi(over: Record<string, unknown> = {}) {
  return {
    revoke: vi.fn(async ({ account_id, ids }: { account_id: string; ids: string[] }) => ({
      report: { account: account_id, results: ids.map((id) => ({ id, error: null, replaced: false })), signed_out: false },
      listing: listing(account_id, account_id, []),
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
    expect(api.revoke).toHaveBeenCalledWith({ account_id: 'a', ids: ['A1', 'A2'], password: 'pa', code: null, include_own: false });
    expect(api.revoke).toHaveBeenCalledWith({ account_id: 'b', ids: ['B1'], password: 'pb', code: null, include_own: false });
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
    await waitFor(() => expect(api.revoke).toHaveBeenCalledWith(expect.objectContaining({ account_id: 'a', ids: ['ME'], include_own: true })));
  });

  it('calls an item the core did not report a failure, never done', async () => {
    // The core answers for A1 only: A2's fate is unknown, so it must not read as done.
    const api = fakeApi({
      revoke: vi.fn(async ({ account_id }: { account_id: string }) => ({
        report: { account: account_id, results: [{ id: 'A1', error: null, replaced: false }], signed_out: false },
        listing: listing(account_id, account_id, []),
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

  it('signs out exactly the sessions the core says "all others" covers, and fails what it did not report', async () => {
    const l = listing('a', 'alice', [
      row({ id: 'ME', current: true }),
      row({ id: 'S1', name: 'Phone' }),
      row({ id: 'S2', name: 'Tablet' }),
      row({ id: 'T1', kind: 'api_token', kind_noun: 'API token', kind_plural: 'API tokens', name: 'CI', revoke_verb: 'revoke' }),
    ]);
    // The core's rule picked S2 only (say, S1 cannot be signed out on this server).
    l.account.all_others = ['S2'];
    const api = fakeApi({
      revokeAllOthers: vi.fn(async () => ({
        report: { account: 'a', results: [{ id: 'S9', error: null, replaced: false }], signed_out: false },
        listing: l,
      })),
    });
    render(RevokeDialog, { props: { rows: [], allOthersOf: 'a', listings: [l], onlisting() {}, onclose() {}, api } });
    expect(screen.getAllByTestId('revoke-item').map((li) => li.dataset.credId)).toEqual(['S2']);
    await fireEvent.input(screen.getByTestId('revoke-password'), { target: { value: 'pa' } });
    await fireEvent.click(screen.getByTestId('revoke-confirm'));
    await waitFor(() => expect(screen.getAllByTestId('revoke-result').length).toBe(2));
    expect(api.revokeAllOthers).toHaveBeenCalledWith(expect.objectContaining({ account_id: 'a', password: 'pa' }));
    const results = Object.fromEntries(screen.getAllByTestId('revoke-item').map((li) => [li.dataset.credId, li.querySelector('[data-testid="revoke-result"]')?.textContent]));
    expect(results.S2).toMatch(/^Failed/);
    expect(results.S9).toBe('Done');
  });

  it('asks for a one-time code when the core says the server wants one, and sends it', async () => {
    let calls = 0;
    const api = fakeApi({
      revoke: vi.fn(async ({ account_id, ids, code }: { account_id: string; ids: string[]; code: string | null }) => {
        calls++;
        if (!code) throw { code: 'code_needed', message: 'alice asks for a one-time code from its second factor', remedy: { remedy: 'give_code' } };
        return { report: { account: account_id, results: ids.map((id) => ({ id, error: null, replaced: false })), signed_out: false }, listing: listing(account_id, account_id, []) };
      }),
    });
    const one = [row({ id: 'A1', revoke_needs_password: false, account_id: 'a', account: 'alice' })];
    render(RevokeDialog, { props: { rows: one, listings: [a], onlisting() {}, onclose() {}, api } });
    await fireEvent.click(screen.getByTestId('revoke-confirm'));
    await fireEvent.input(await screen.findByTestId('revoke-code'), { target: { value: '123456' } });
    await fireEvent.click(screen.getByTestId('revoke-confirm'));
    await waitFor(() => expect(screen.getByTestId('revoke-result').textContent).toBe('Done'));
    expect(calls).toBe(2);
    expect(api.revoke).toHaveBeenLastCalledWith(expect.objectContaining({ code: '123456', password: null }));
  });

  it('says a session ended on the server’s page waits for the confirmation there, and can open it again', async () => {
    const page = 'https://auth.example.org/account/?action=org.matrix.device_delete&device_id=P1';
    const openPage = vi.fn(async () => null);
    const api = fakeApi({
      openPage,
      revoke: vi.fn(async ({ account_id, ids }: { account_id: string; ids: string[] }) => ({
        report: { account: account_id, results: ids.map((id) => ({ id, error: null, replaced: false, confirm_url: page })), signed_out: false },
        listing: listing(account_id, account_id, []),
      })),
    });
    const phones = [
      row({ id: 'P1', name: 'Phone', account_id: 'a', account: 'alice', revoke_needs_password: false, revoke_in_browser: true }),
      row({ id: 'P2', name: 'Tablet', account_id: 'a', account: 'alice', revoke_needs_password: false, revoke_in_browser: true }),
    ];
    render(RevokeDialog, { props: { rows: phones, listings: [a], onlisting() {}, onclose() {}, api } });
    expect(screen.getByTestId('revoke-in-browser').textContent).toMatch(/each needs your confirmation there/);
    expect(screen.queryByTestId('revoke-password')).toBeNull();
    await fireEvent.click(screen.getByTestId('revoke-confirm'));
    await waitFor(() => expect(screen.getAllByTestId('revoke-result').length).toBe(2));
    for (const r of screen.getAllByTestId('revoke-result')) {
      expect(r.textContent).toMatch(/Waiting for you to confirm the sign-out in your browser/);
      expect(r.textContent).not.toMatch(/Done/);
    }
    await fireEvent.click(screen.getAllByTestId('revoke-open-page')[0]);
    expect(openPage).toHaveBeenCalledWith(page);
  });
});

describe('RevokeDialog, a step confirmed in the browser', () => {
  // An account signed in by single sign-on: no password asked; the server wants the step instead.
  const sso = listing('s', 'carol', [
    row({ id: 'S1', name: 'Phone', revoke_needs_password: false }),
    row({ id: 'S2', name: 'Laptop', revoke_needs_password: false }),
  ]);
  const page = 'http://127.0.0.1:8008/_matrix/client/v3/auth/m.login.sso/fallback/web?session=abc';

  function waitingApi(opened = true) {
    let settle!: (v: unknown) => void;
    const revoke = vi.fn(() => new Promise((resolve) => (settle = resolve)));
    const api = fakeApi({
      revoke,
      pendingConfirmation: vi.fn(async () => ({ page, opened })),
      cancelConfirmation: vi.fn(async () => null),
    });
    return { api, settle: (v: unknown) => settle(v) };
  }

  it('says what it waits for, with the page, until the revoke ends', async () => {
    const { api, settle } = waitingApi();
    render(RevokeDialog, { props: { rows: sso.rows, listings: [sso], onlisting() {}, onclose() {}, api } });
    expect(screen.queryByTestId('revoke-password')).toBeNull();
    await fireEvent.click(screen.getByTestId('revoke-confirm'));
    const note = await screen.findByTestId('revoke-confirm-browser');
    expect(note.textContent).toMatch(/Confirm in your browser: carol's server opened its page there/);
    expect(note.textContent).toContain(page);
    expect(api.pendingConfirmation).toHaveBeenCalledWith('s');
    expect(api.revoke).toHaveBeenCalledWith({ account_id: 's', ids: ['S1', 'S2'], password: null, code: null, include_own: false });
    settle({
      report: { account: 's', results: [{ id: 'S1', error: null }, { id: 'S2', error: null }], signed_out: false },
      listing: listing('s', 'carol', []),
    });
    await waitFor(() => expect(screen.getAllByTestId('revoke-result').map((r) => r.textContent)).toEqual(['Done', 'Done']));
    expect(screen.queryByTestId('revoke-confirm-browser')).toBeNull();
  });

  it('stops waiting when asked, and shows the core’s sentence', async () => {
    const { api, settle } = waitingApi(false);
    render(RevokeDialog, { props: { rows: sso.rows, listings: [sso], onlisting() {}, onclose() {}, api } });
    await fireEvent.click(screen.getByTestId('revoke-confirm'));
    expect((await screen.findByTestId('revoke-confirm-browser')).textContent).toMatch(/it did not open, so open this page in it/);
    await fireEvent.click(screen.getByTestId('revoke-confirm-stop'));
    expect(api.cancelConfirmation).toHaveBeenCalledWith('s');
    settle(Promise.reject({ code: 'not_approved', message: 'the step in the browser was cancelled; nothing was signed out', remedy: null }));
    await waitFor(() => expect(screen.getAllByTestId('revoke-result')[0].textContent).toMatch(/cancelled; nothing was signed out/));
  });
});
