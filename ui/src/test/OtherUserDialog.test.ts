import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import OtherUserDialog from '../components/OtherUserDialog.svelte';
import AccountHeader from '../components/AccountHeader.svelte';
import { listing, row } from './fixtures';

const admin = listing('adm', 'admin@127.0.0.1:8008', []);
const bobRows = listing('adm', 'admin@127.0.0.1:8008', [
  row({ id: 'B1', name: 'Element Desktop: Linux', summary: 'Element Desktop on Linux · active 2 hours ago · 203.0.113.7' }),
  row({ id: 'B2', name: 'app.element.io: Firefox on Linux', summary: 'Element Web in Firefox · active yesterday' }),
  row({ id: 'B3', name: 'Nheko', summary: 'Nheko · active 3 days ago' }),
]).rows.map((r) => ({ ...r, current: false, revoke_needs_password: false }));

function userListing(rows = bobRows) {
  return { account: admin.account, user: '@bob:localhost', rows, gaps: [{ message: 'Push registrations are read-only here', url: null, remedy: null }] };
}

function fakeApi(over: Record<string, unknown> = {}) {
  return {
    listUser: vi.fn(async () => userListing()),
    revokeUser: vi.fn(async ({ ids }: { ids: string[] }) => ({
      report: { account: 'admin@127.0.0.1:8008', user: '@bob:localhost', results: ids.map((id) => ({ id, error: null })), signed_out: false },
      listing: userListing(bobRows.filter((r) => !ids.includes(r.id))),
    })),
    ...over,
  } as any;
}

describe('OtherUserDialog', () => {
  it('asks the name, shows that user’s rows as the core words them, and revokes exactly the chosen ones', async () => {
    const api = fakeApi();
    render(OtherUserDialog, { props: { account: admin.account, onclose() {}, api } });
    await fireEvent.input(screen.getByTestId('other-user-name'), { target: { value: ' bob ' } });
    await fireEvent.click(screen.getByTestId('other-user-show'));
    await waitFor(() => expect(screen.getAllByTestId('other-user-row').length).toBe(3));
    expect(api.listUser).toHaveBeenCalledWith('adm', 'bob');
    expect(screen.getByTestId('other-user-list').textContent).toContain('@bob:localhost');
    expect(screen.getByTestId('other-user-list').textContent).toContain('active 2 hours ago · 203.0.113.7');
    expect(screen.getByTestId('other-user-gap').textContent).toMatch(/read-only/);
    const revoke = screen.getByTestId('other-user-revoke') as HTMLButtonElement;
    expect(revoke.disabled).toBe(true);

    await fireEvent.click(screen.getByLabelText('Choose Element Desktop: Linux'));
    await fireEvent.click(screen.getByLabelText('Choose Nheko'));
    await fireEvent.click(revoke);
    // The revoke dialog lists exactly those two, for that user, and asks no password.
    expect(screen.getAllByTestId('revoke-item').map((li) => li.dataset.credId)).toEqual(['B1', 'B3']);
    expect(screen.getByTestId('revoke-user').textContent).toContain('@bob:localhost');
    expect(screen.queryByTestId('revoke-password')).toBeNull();
    expect(screen.queryByText(/Keyward’s own session|Keyward's own session/)).toBeNull();
    await fireEvent.click(screen.getByTestId('revoke-confirm'));
    await waitFor(() => expect(screen.getAllByTestId('revoke-result').map((r) => r.textContent)).toEqual(['Done', 'Done']));
    expect(api.revokeUser).toHaveBeenCalledWith({ account_id: 'adm', user: '@bob:localhost', ids: ['B1', 'B3'] });
    await fireEvent.click(screen.getByTestId('revoke-close'));
    // Back to the user's list as it is now.
    await waitFor(() => expect(screen.getAllByTestId('other-user-row').map((li) => li.dataset.credId)).toEqual(['B2']));
  });

  it('shows the core’s one sentence when the account is not an administrator, and lists nothing', async () => {
    const api = fakeApi({
      listUser: vi.fn(async () => {
        throw {
          code: 'not_admin',
          message: 'alice@127.0.0.1:8008 is not an administrator of its server, so it cannot see or revoke another user’s sessions or tokens; nothing was changed',
          remedy: { remedy: 'ask_admin' },
        };
      }),
    });
    render(OtherUserDialog, { props: { account: admin.account, onclose() {}, api } });
    await fireEvent.input(screen.getByTestId('other-user-name'), { target: { value: 'bob' } });
    await fireEvent.click(screen.getByTestId('other-user-show'));
    await waitFor(() => expect(screen.getByTestId('other-user-error').textContent).toMatch(/is not an administrator of its server/));
    expect(screen.queryByTestId('other-user-list')).toBeNull();
    expect(api.revokeUser).not.toHaveBeenCalled();
  });

  it('asks nothing of the server without a name', async () => {
    const api = fakeApi();
    render(OtherUserDialog, { props: { account: admin.account, onclose() {}, api } });
    await fireEvent.click(screen.getByTestId('other-user-show'));
    expect(api.listUser).not.toHaveBeenCalled();
    expect(screen.getByRole('alert').textContent).toMatch(/name/);
  });
});

describe('AccountHeader', () => {
  const props = {
    accounts: 1,
    items: 0,
    status: undefined,
    refreshing: false,
    onrenamed() {},
    onsigninagain() {},
    onallothers() {},
    onremove() {},
    onrefresh() {},
    onopenurl() {},
  };

  it('offers “View another user…” only where the kind can', async () => {
    const onotheruser = vi.fn();
    const { unmount } = render(AccountHeader, { props: { ...props, current: admin, onotheruser } });
    await fireEvent.click(screen.getByTestId('other-user'));
    expect(onotheruser).toHaveBeenCalled();
    unmount();
    const ha = { ...admin, account: { ...admin.account, capabilities: { ...admin.account.capabilities, other_users: false } } };
    render(AccountHeader, { props: { ...props, current: ha } });
    expect(screen.queryByTestId('other-user')).toBeNull();
  });
});
