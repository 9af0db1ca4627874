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
    detect: vi.fn(async () => ({ kind: matrix, base_url: 'http://127.0.0.1:8008', insecure: false })),
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
    expect(api.detect).toHaveBeenCalledWith({ url: '127.0.0.1:8008', kind: null });
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
      code: null,
      allow_insecure: false,
      allow_ending_sessions: false,
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

describe('AddAccountDialog, remedies in the app’s own words', () => {
  async function toSignIn(api: any) {
    render(AddAccountDialog, { props: { onadded() {}, onclose() {}, api } });
    await fireEvent.input(screen.getByTestId('add-url'), { target: { value: 'matrix.example.org' } });
    await fireEvent.click(screen.getByTestId('add-continue'));
    await fireEvent.input(await screen.findByTestId('add-login'), { target: { value: 'alice' } });
  }

  it('warns about plain http to another computer and sends allow_insecure only when ticked', async () => {
    const api = fakeApi({ detect: vi.fn(async () => ({ kind: matrix, base_url: 'http://matrix.example.org', insecure: true })) });
    await toSignIn(api);
    expect(screen.getByTestId('add-insecure').textContent).toMatch(/plain http/);
    await fireEvent.input(screen.getByTestId('add-secret'), { target: { value: 'pw' } });
    await fireEvent.click(screen.getByTestId('add-submit'));
    expect(api.addAccount).not.toHaveBeenCalled();
    expect(screen.getByTestId('add-error').textContent).toMatch(/Use plain http anyway/);
    await fireEvent.click(screen.getByTestId('add-allow-insecure'));
    await fireEvent.input(screen.getByTestId('add-secret'), { target: { value: 'pw' } });
    await fireEvent.click(screen.getByTestId('add-submit'));
    await waitFor(() => expect(api.addAccount).toHaveBeenCalledWith(expect.objectContaining({ allow_insecure: true })));
  });

  it('offers "Paste a token instead" when the core says a token is the way, and never shows a flag', async () => {
    const api = fakeApi({
      addAccount: vi.fn(async () => {
        throw {
          code: 'sign_in_method',
          message: 'alice@matrix.example.org signs in with single sign-on only',
          remedy: { remedy: 'use_token', label: 'access token', page: null },
        };
      }),
    });
    await toSignIn(api);
    await fireEvent.input(screen.getByTestId('add-secret'), { target: { value: 'pw' } });
    await fireEvent.click(screen.getByTestId('add-submit'));
    const box = await screen.findByTestId('add-error');
    expect(box.textContent).toMatch(/Paste a token instead/);
    expect(box.textContent).not.toMatch(/--/);
    await fireEvent.click(screen.getByTestId('add-use-token'));
    expect(document.querySelector('label[for="add-secret"]')?.textContent).toBe('access token');
  });

  it('points at the kind of server when the core cannot tell it', async () => {
    const api = fakeApi({
      detect: vi.fn(async () => {
        throw { code: 'unknown_kind', message: 'could not tell what kind of server x is', remedy: { remedy: 'choose_kind', kinds: ['matrix'] } };
      }),
    });
    render(AddAccountDialog, { props: { onadded() {}, onclose() {}, api } });
    await fireEvent.input(screen.getByTestId('add-url'), { target: { value: 'x' } });
    await fireEvent.click(screen.getByTestId('add-continue'));
    expect((await screen.findByTestId('add-kind-hint')).textContent).toMatch(/Kind of server/);
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
