import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import AddAccountDialog from '../components/AddAccountDialog.svelte';
import { listing } from './fixtures';

const matrix = {
  kind: 'matrix',
  display_name: 'Matrix',
  capabilities: listing('x', 'x', []).account.capabilities,
};

function fakeApi(over: Record<string, unknown> = {}) {
  return {
    kinds: vi.fn(async () => [matrix]),
    detect: vi.fn(async () => ({ ...matrix, base_url: 'http://127.0.0.1:8008' })),
    addAccount: vi.fn(async () => listing('new', 'alice@127.0.0.1:8008', [])),
    ...over,
  } as any;
}

describe('AddAccountDialog', () => {
  it('detects the kind, then signs in with the password and forgets it', async () => {
    const api = fakeApi();
    const onadded = vi.fn();
    render(AddAccountDialog, { props: { onadded, onclose() {}, api } });
    await fireEvent.input(screen.getByTestId('add-url'), { target: { value: '127.0.0.1:8008' } });
    await fireEvent.click(screen.getByTestId('add-continue'));
    await waitFor(() => screen.getByTestId('add-login'));
    expect(api.detect).toHaveBeenCalledWith('127.0.0.1:8008');
    await fireEvent.input(screen.getByTestId('add-login'), { target: { value: 'alice' } });
    await fireEvent.input(screen.getByTestId('add-secret'), { target: { value: 'hunter2' } });
    await fireEvent.click(screen.getByTestId('add-submit'));
    await waitFor(() => expect(onadded).toHaveBeenCalled());
    expect(api.addAccount).toHaveBeenCalledWith({
      url: 'http://127.0.0.1:8008',
      kind: 'matrix',
      login: 'alice',
      secret: 'hunter2',
      secret_is_token: false,
      label: null,
    });
    expect((screen.getByTestId('add-secret') as HTMLInputElement).value).toBe('');
  });

  it('puts a detection error next to the address field', async () => {
    const api = fakeApi({
      detect: vi.fn(async () => {
        throw { code: 'unreachable', message: 'cannot reach nowhere.invalid: connection refused' };
      }),
    });
    render(AddAccountDialog, { props: { onadded() {}, onclose() {}, api } });
    await fireEvent.input(screen.getByTestId('add-url'), { target: { value: 'nowhere.invalid' } });
    await fireEvent.click(screen.getByTestId('add-continue'));
    const err = await screen.findByTestId('add-url-error');
    expect(err.textContent).toBe('cannot reach nowhere.invalid: connection refused');
    expect(screen.getByTestId('add-url').getAttribute('aria-invalid')).toBe('true');
  });

  it('puts a wrong password next to the password field', async () => {
    const api = fakeApi({
      addAccount: vi.fn(async () => {
        throw { code: 'wrong_password', message: 'wrong username or password for alice@127.0.0.1:8008; nothing was changed' };
      }),
    });
    render(AddAccountDialog, { props: { onadded() {}, onclose() {}, api } });
    await fireEvent.input(screen.getByTestId('add-url'), { target: { value: '127.0.0.1:8008' } });
    await fireEvent.click(screen.getByTestId('add-continue'));
    await fireEvent.input(await screen.findByTestId('add-login'), { target: { value: 'alice' } });
    await fireEvent.input(screen.getByTestId('add-secret'), { target: { value: 'nope' } });
    await fireEvent.click(screen.getByTestId('add-submit'));
    expect((await screen.findByTestId('add-secret-error')).textContent).toMatch(/^wrong username or password/);
  });
});

describe('AddAccountDialog, signing in again', () => {
  it('goes straight to the password of the known account', async () => {
    const api = fakeApi();
    const again = { ...listing('old', 'alice@127.0.0.1:8008', []).account, signed_in: false };
    render(AddAccountDialog, { props: { onadded() {}, onclose() {}, again, api } });
    expect((screen.getByTestId('add-login') as HTMLInputElement).value).toBe('alice');
    await fireEvent.input(screen.getByTestId('add-secret'), { target: { value: 'hunter2' } });
    await fireEvent.click(screen.getByTestId('add-submit'));
    await waitFor(() =>
      expect(api.addAccount).toHaveBeenCalledWith(
        expect.objectContaining({ url: 'http://127.0.0.1:8008', kind: 'matrix', login: 'alice', secret: 'hunter2' }),
      ),
    );
    expect(api.detect).not.toHaveBeenCalled();
  });
});
