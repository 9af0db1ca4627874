import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import CredentialRow from '../components/CredentialRow.svelte';
import { row } from './fixtures';

describe('CredentialRow', () => {
  it('shows a hostile device name as text and runs nothing', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const { container } = render(CredentialRow, { props: { row: row({ name: hostile }) } });
    expect(screen.getByTestId('credential-name').textContent).toBe(hostile);
    expect(container.querySelector('img')).toBeNull();
  });

  it('shows the summary line and the badges in words', () => {
    render(CredentialRow, { props: { row: row({ current: true, badges: ['this_app', 'no_expiry'] }) } });
    expect(screen.getByTestId('credential-summary').textContent).toContain('203.0.113.7');
    expect(screen.getByText('This app')).toBeTruthy();
    expect(screen.getByText('No expiry')).toBeTruthy();
  });

  it('says plainly when a sign-out waits for the confirmation in the browser', () => {
    render(CredentialRow, { props: { row: row({ pending: 'Waiting for you to confirm the sign-out in your browser' }) } });
    expect(screen.getByTestId('credential-pending').textContent).toBe('Waiting for you to confirm the sign-out in your browser');
  });

  it('shows no waiting line when nothing waits', () => {
    render(CredentialRow, { props: { row: row() } });
    expect(screen.queryByTestId('credential-pending')).toBeNull();
  });

  it('shows the title the core gave', () => {
    render(CredentialRow, { props: { row: row({ name: null, title: 'Unnamed API token', kind: 'api_token' }) } });
    expect(screen.getByTestId('credential-name').textContent).toBe('Unnamed API token');
  });

  it('isolates a name with a right-to-left override and cuts it on one line', () => {
    const hostile = '\u202Egnp.exe' + 'x'.repeat(10_000);
    render(CredentialRow, { props: { row: row({ name: hostile }) } });
    const name = screen.getByTestId('credential-name');
    expect(name.querySelector('bdi')?.textContent).toBe(hostile);
    expect(name.getAttribute('dir')).toBe('auto');
    expect(name.className).toContain('name');
  });
});
