import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import SafeModeBanner from '../components/SafeModeBanner.svelte';
import Sidebar from '../components/Sidebar.svelte';
import DetailsPane from '../components/DetailsPane.svelte';
import FindingItem from '../components/FindingItem.svelte';
import { listing, row } from './fixtures';

describe('SafeModeBanner', () => {
  it('is there only while the mode is on, and says what is hidden', () => {
    const { container } = render(SafeModeBanner, { props: { on: false, ontoggle() {} } });
    expect(container.querySelector('[data-testid="safe-banner"]')).toBeNull();
  });
  it('switches the mode off when asked', async () => {
    const ontoggle = vi.fn();
    render(SafeModeBanner, { props: { on: true, ontoggle } });
    expect(screen.getByTestId('safe-banner').textContent).toMatch(/IP and e-mail addresses/);
    await fireEvent.click(screen.getByTestId('safe-off'));
    expect(ontoggle).toHaveBeenCalledWith(false);
  });
});

describe('Sidebar safe-to-share switch', () => {
  const props = (safe: boolean, onsafe: (on: boolean) => void) => ({
    listings: [listing('a', 'alice', [])],
    status: {},
    selected: null,
    onselect() {},
    onadd() {},
    safe,
    onsafe,
  });
  it('shows the mode as it is and asks the core to change it', async () => {
    const onsafe = vi.fn();
    render(Sidebar, { props: props(false, onsafe) });
    const box = screen.getByTestId('safe-toggle') as HTMLInputElement;
    expect(box.checked).toBe(false);
    await fireEvent.click(box);
    expect(onsafe).toHaveBeenCalledWith(true);
  });
  it('shows a masked server address as the core gave it, not re-parsed', () => {
    const l = listing('a', 'alice', []);
    l.account.base_url = 'http://127.0.0.•••:8008';
    render(Sidebar, { props: { ...props(true, () => {}), listings: [l] } });
    expect(screen.getByText('127.0.0.•••:8008')).toBeTruthy();
  });
  it('is ticked while on', () => {
    render(Sidebar, { props: props(true, () => {}) });
    expect((screen.getByTestId('safe-toggle') as HTMLInputElement).checked).toBe(true);
  });
});

describe('guided words', () => {
  it('the details pane shows what this kind of credential is, as the core words it', () => {
    const r = row({ guide: 'A session is a device or browser that is signed in to your account. Signing it out ends it.' });
    render(DetailsPane, { props: { row: r, onrename: async () => {}, onrevoke() {}, onopenurl() {}, onclose() {} } });
    expect(screen.getByTestId('guide').textContent).toBe(r.guide);
  });
  it('a checkup finding explains its kind on request', () => {
    render(FindingItem, {
      props: {
        finding: {
          account: 'alice',
          account_id: 'a',
          credential_id: 'DEV1',
          credential_kind: 'session',
          name: 'Phone',
          summary: 'Element on Android',
          guide: 'A session is a device or browser that is signed in to your account.',
          code: 'inactive',
          reason: 'Not used since March.',
          fix: { action: 'revoke' },
          rank: 1,
          fingerprint: 'x',
        },
        verb: 'Sign out',
        onrevoke() {},
        onopenurl() {},
        ondismiss() {},
      },
    });
    expect(screen.getByTestId('finding-guide').textContent).toMatch(/^A session is a device/);
  });
});
