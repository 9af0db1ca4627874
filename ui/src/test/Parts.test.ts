import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import GapsList from '../components/GapsList.svelte';
import SelectionBar from '../components/SelectionBar.svelte';
import Welcome from '../components/Welcome.svelte';
import AccountHeader from '../components/AccountHeader.svelte';
import { listing } from './fixtures';

describe('Welcome', () => {
  it('names the kinds of server the core knows, not a list of its own', () => {
    render(Welcome, { props: { kinds: ['Matrix', 'Phorge', 'Hypothesis'], error: null, onadd() {} } });
    expect(screen.getByTestId('welcome-text').textContent).toMatch(/on Matrix, Phorge, and Hypothesis,/);
  });
});

describe('GapsList', () => {
  it('says each gap as the core did, and offers the page its remedy names', async () => {
    const onopenurl = vi.fn();
    render(GapsList, {
      props: {
        gaps: [
          { account: 'alice', message: 'Browser sessions are only on the site', remedy: { remedy: 'open_page', url: 'https://x.example/sessions' } },
          { account: 'alice', message: 'Web services are off', remedy: { remedy: 'ask_admin' } },
        ],
        showAccount: true,
        onopenurl,
      },
    });
    const items = screen.getAllByTestId('gap');
    expect(items[1].textContent).toMatch(/A site administrator must change a setting/);
    await fireEvent.click(screen.getByText('Open the page ↗'));
    expect(onopenurl).toHaveBeenCalledWith('https://x.example/sessions');
    expect(screen.getByTestId('gaps').textContent).not.toMatch(/--/);
  });
});

describe('SelectionBar', () => {
  it('shows only while something is selected', () => {
    const { container } = render(SelectionBar, { props: { count: 0, onrevoke() {}, onclear() {} } });
    expect(container.querySelector('[data-testid="selection-bar"]')).toBeNull();
  });
  it('offers to revoke the selection', async () => {
    const onrevoke = vi.fn();
    render(SelectionBar, { props: { count: 3, onrevoke, onclear() {} } });
    await fireEvent.click(screen.getByTestId('revoke-selected'));
    expect(screen.getByTestId('revoke-selected').textContent).toBe('Revoke 3…');
    expect(onrevoke).toHaveBeenCalled();
  });
});

describe('AccountHeader', () => {
  const props = (over: Record<string, unknown>) => ({
    current: listing('a', 'alice', []),
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
    ...over,
  });

  it('offers "Sign in again" for a refresh error whose remedy is to sign in again', async () => {
    const onsigninagain = vi.fn();
    render(AccountHeader, {
      props: props({ status: { state: 'error', message: 'alice must sign in again', remedy: { remedy: 'sign_in_again' } }, onsigninagain }),
    });
    const banner = screen.getByTestId('account-error');
    await fireEvent.click(banner.querySelector('button')!);
    expect(onsigninagain).toHaveBeenCalled();
  });

  it('shows "Sign out all other sessions" only where the core says it applies', () => {
    const l = listing('a', 'alice', []);
    l.account.account_actions.revoke_all_others = false;
    render(AccountHeader, { props: props({ current: l }) });
    expect(screen.queryByTestId('all-others')).toBeNull();
  });
});
