import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import ChangesBanner from '../components/ChangesBanner.svelte';
import CheckupView from '../components/CheckupView.svelte';
import ExportButton from '../components/ExportButton.svelte';
import FindingItem from '../components/FindingItem.svelte';
import HistoryView from '../components/HistoryView.svelte';
import PasteToken from '../components/PasteToken.svelte';
import type { ChangeView, Finding, Identity } from '../lib/bindings';
import { listing, row } from './fixtures';

function finding(over: Partial<Finding> = {}): Finding {
  return {
    account: 'alice@example.org',
    account_id: 'a',
    credential_id: 'A1',
    credential_kind: 'session',
    name: 'Old phone',
    summary: 'Element on Android · last used 4 months ago',
    code: 'inactive',
    reason: 'This phone has not been used since March. If you no longer have it, sign it out.',
    fix: { action: 'revoke' },
    rank: 600,
    fingerprint: 'f1',
    ...over,
  } as Finding;
}

describe('FindingItem', () => {
  it('shows the core’s reason and only the action its fix names', async () => {
    const onrevoke = vi.fn();
    const onopenurl = vi.fn();
    const ondismiss = vi.fn();
    const { unmount } = render(FindingItem, { props: { finding: finding(), verb: 'Sign out', onrevoke, onopenurl, ondismiss } });
    expect(screen.getByTestId('finding-reason').textContent).toBe(finding().reason);
    expect(screen.queryByTestId('finding-open')).toBeNull();
    await fireEvent.click(screen.getByTestId('finding-revoke'));
    expect(onrevoke).toHaveBeenCalledOnce();
    unmount();
    render(FindingItem, {
      props: { finding: finding({ fix: { action: 'open_page', url: 'https://example.org/account' } }), verb: 'Revoke', onrevoke, onopenurl, ondismiss },
    });
    expect(screen.queryByTestId('finding-revoke')).toBeNull();
    await fireEvent.click(screen.getByTestId('finding-open'));
    expect(onopenurl).toHaveBeenCalledWith('https://example.org/account');
    await fireEvent.click(screen.getByTestId('finding-fine'));
    expect(ondismiss).toHaveBeenCalledOnce();
  });
});

describe('CheckupView', () => {
  const a = listing('a', 'alice@example.org', [row({ id: 'A1', name: 'Old phone', can_revoke: true, revoke_verb: 'sign_out' }), row({ id: 'A2', name: 'Tab', can_revoke: false })]);
  const b = listing('b', 'bob@example.org', [row({ id: 'B1', name: 'Script' })]);
  const all = [
    finding(),
    finding({ credential_id: 'A2', name: 'Tab', code: 'never_used', reason: 'Made in May, never used.' }),
    finding({ account: 'bob@example.org', account_id: 'b', credential_id: 'B1', name: 'Script', code: 'no_expiry', reason: 'Never expires.' }),
  ];

  it('walks one account at a time; "This is fine" calls dismiss with the finding and removes it', async () => {
    const api = {
      checkup: vi.fn(async () => all),
      dismissFinding: vi.fn(async () => all.filter((f) => f.credential_id !== 'A2')),
    };
    render(CheckupView, { props: { listings: [a, b], onrevoke: vi.fn(), onopenurl: vi.fn(), api } });
    await waitFor(() => expect(screen.getAllByTestId('finding').length).toBe(2));
    expect(screen.getByTestId('checkup-account').textContent).toMatch(/alice@example.org/);
    await fireEvent.click(screen.getAllByTestId('finding-fine')[1]);
    expect(api.dismissFinding).toHaveBeenCalledWith('a', 'A2', 'never_used');
    await waitFor(() => expect(screen.getAllByTestId('finding').map((li) => li.dataset.credId)).toEqual(['A1']));
    await fireEvent.click(screen.getByTestId('checkup-next'));
    expect(screen.getByTestId('checkup-account').textContent).toMatch(/bob@example.org/);
    await fireEvent.click(screen.getByTestId('checkup-next'));
    expect(screen.getByTestId('checkup-summary').textContent).toMatch(/3 things looked at, 0 signed out, 1 fine, 2 left as they are/);
  });

  it('revokes through the revoke dialog with the finding’s row, and counts it signed out once the core no longer raises it', async () => {
    const checkup = vi.fn(async () => all);
    const api = { checkup, dismissFinding: vi.fn() };
    const onrevoke = vi.fn(async () => {
      checkup.mockResolvedValueOnce(all.slice(1));
    });
    render(CheckupView, { props: { listings: [a, b], onrevoke, onopenurl: vi.fn(), api } });
    await waitFor(() => expect(screen.getAllByTestId('finding-revoke').length).toBe(1));
    expect(screen.getByTestId('finding-revoke').textContent).toMatch(/Sign out/);
    await fireEvent.click(screen.getByTestId('finding-revoke'));
    expect(onrevoke).toHaveBeenCalledWith([a.rows[0]]);
    await waitFor(() => expect(screen.getAllByTestId('finding').map((li) => li.dataset.credId)).toEqual(['A2']));
    await fireEvent.click(screen.getByTestId('checkup-next'));
    await fireEvent.click(screen.getByTestId('checkup-next'));
    expect(screen.getByTestId('checkup-summary').textContent).toMatch(/3 things looked at, 1 signed out, 0 fine/);
  });
});

describe('PasteToken', () => {
  const TOKEN = 'syt_YWxpY2U_SECRETsecretSECRET_0a1b2c';
  const who: Identity = {
    kind: 'matrix',
    what: 'Matrix access token',
    account: 'alice@example.org',
    account_id: 'a',
    credential_id: 'DEV1',
    name: 'Element on Pixel 8',
    summary: 'Element on Android · last used 2 days ago from 203.0.113.7',
    valid: true,
    revoked: false,
    confirm_url: null,
    candidates: ['Matrix access token'],
  };

  it('sends the token once, never keeps or shows it, and names whose it is', async () => {
    const api = { identifyToken: vi.fn(async () => who) };
    const onrevoke = vi.fn();
    const { container } = render(PasteToken, { props: { onrevoke, api } });
    const input = screen.getByTestId('paste-input') as HTMLInputElement;
    expect(input.type).toBe('password');
    await fireEvent.input(input, { target: { value: TOKEN } });
    await fireEvent.click(screen.getByTestId('paste-submit'));
    await waitFor(() => expect(screen.getByTestId('identity-name').textContent).toBe('Element on Pixel 8'));
    expect(api.identifyToken).toHaveBeenCalledWith({ token: TOKEN, revoke: false, password: null, code: null });
    expect(input.value).toBe('');
    expect(container.innerHTML).not.toContain(TOKEN);
    expect(container.innerHTML).not.toContain('SECRETsecret');
    expect(screen.getByTestId('identity-account').textContent).toBe('alice@example.org');
    expect(screen.getByTestId('identity-valid').textContent).toBe('Still works');
    await fireEvent.click(screen.getByTestId('identity-revoke'));
    expect(onrevoke).toHaveBeenCalledWith(who);
  });

  it('says when a token is none of the user’s', async () => {
    const api = { identifyToken: vi.fn(async () => ({ ...who, account: null, account_id: null, credential_id: null, name: null, summary: null, valid: null })) };
    render(PasteToken, { props: { onrevoke: vi.fn(), api } });
    await fireEvent.input(screen.getByTestId('paste-input'), { target: { value: TOKEN } });
    await fireEvent.click(screen.getByTestId('paste-submit'));
    await waitFor(() => expect(screen.getByTestId('identity-none').textContent).toMatch(/not one of your accounts/));
    expect(screen.queryByTestId('identity-revoke')).toBeNull();
  });
});

describe('ChangesBanner', () => {
  const change: ChangeView = {
    account: 'alice@example.org',
    account_id: 'a',
    credential_id: 'N1',
    change: 'appeared',
    name: 'Firefox on Windows',
    summary: 'Firefox on Windows · signed in 2 minutes ago',
    words: 'New since you last looked: Firefox on Windows, signed in 2 minutes ago from 198.51.100.7',
    at: '2026-01-01T00:00:00Z',
  };

  it('shows the core’s words and dismisses through the core', async () => {
    const api = { dismissChanges: vi.fn(async () => null) };
    const ondismissed = vi.fn();
    render(ChangesBanner, { props: { changes: [change], ondismissed, api } });
    expect(screen.getByTestId('change').textContent).toContain(change.words);
    await fireEvent.click(screen.getByTestId('changes-dismiss'));
    expect(api.dismissChanges).toHaveBeenCalledOnce();
    await waitFor(() => expect(ondismissed).toHaveBeenCalledOnce());
  });

  it('shows nothing when nothing changed', () => {
    render(ChangesBanner, { props: { changes: [], ondismissed: vi.fn(), api: { dismissChanges: vi.fn() } } });
    expect(screen.queryByTestId('changes-banner')).toBeNull();
  });
});

describe('HistoryView and Export', () => {
  it('lists what was done, newest first, with failures', async () => {
    const api = {
      history: vi.fn(async () => [
        { at: '2026-01-01T10:00:00Z', account: 'alice', account_id: 'a', action: 'rename', credential_id: 'A1', name: 'Phone', new_name: 'Old phone', ok: true },
        { at: '2026-01-02T10:00:00Z', account: 'alice', account_id: 'a', action: 'revoke', credential_id: 'A1', name: 'Old phone', ok: false, error: 'the server said no' },
      ]),
      exportReport: vi.fn(),
    } as any;
    render(HistoryView, { props: { api } });
    await waitFor(() => expect(screen.getAllByTestId('history-entry').length).toBe(2));
    const [first, second] = screen.getAllByTestId('history-entry').map((li) => li.textContent ?? '');
    expect(first).toMatch(/Revoked Old phone.*failed: the server said no/);
    expect(second).toMatch(/Renamed Phone.*Old phone/);
  });

  it('shows where the report was saved', async () => {
    const api = { exportReport: vi.fn(async () => '/home/alice/Downloads/keyward-report-2026-01-02.html') };
    render(ExportButton, { props: { api } });
    await fireEvent.click(screen.getByTestId('export-report'));
    await waitFor(() => expect(screen.getByTestId('export-path').textContent).toBe('Saved to /home/alice/Downloads/keyward-report-2026-01-02.html'));
  });
});
