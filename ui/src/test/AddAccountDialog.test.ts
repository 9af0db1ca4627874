import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import AddAccountDialog from '../components/AddAccountDialog.svelte';
import { identityProviders, listing } from './fixtures';

const matrix = {
  kind: 'matrix',
  display_name: 'Matrix',
  capabilities: listing('x', 'x', []).account.capabilities,
};

function fakeApi(over: Record<string, unknown> = {}) {
  return {
    kinds: vi.fn(async () => [matrix]),
    detect: vi.fn(async () => ({ kind: matrix, base_url: 'http://127.0.0.1:8008', insecure: false, methods: ['password', 'token'] })),
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
    const api = fakeApi({
      detect: vi.fn(async () => ({ kind: matrix, base_url: 'http://matrix.example.org', insecure: true, methods: ['password', 'token'] })),
    });
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
    // The server is asked what it offers today, for the account's own kind and address.
    expect(api.detect).toHaveBeenCalledWith({ url: 'http://127.0.0.1:8008', kind: 'matrix' });
  });

  it('offers approval in the browser again when the server offers it, for the same user', async () => {
    const api = wordpressApi();
    const again = { ...listing('old', 'admin@127.0.0.1:8080', []).account, kind: 'wordpress', base_url: 'http://127.0.0.1:8080', capabilities: wordpress.capabilities, signed_in: false } as any;
    render(AddAccountDialog, { props: { onadded() {}, onclose() {}, again, api } });
    await fireEvent.click(await screen.findByTestId('add-browser'));
    await waitFor(() =>
      expect(api.startBrowserAdd).toHaveBeenCalledWith(expect.objectContaining({ url: 'http://127.0.0.1:8080', kind: 'wordpress', login: 'alice' })),
    );
  });

  it('keeps to what the server offers today when it has turned approval in the browser off', async () => {
    const api = wordpressApi({
      detect: vi.fn(async () => ({ kind: wordpress, base_url: 'http://127.0.0.1:8080', insecure: false, methods: ['token'] })),
    });
    const again = { ...listing('old', 'admin@127.0.0.1:8080', []).account, kind: 'wordpress', capabilities: wordpress.capabilities, signed_in: false } as any;
    render(AddAccountDialog, { props: { onadded() {}, onclose() {}, again, api } });
    await waitFor(() => expect(screen.queryByTestId('add-browser')).toBeNull());
    expect(document.querySelector('label[for="add-secret"]')?.textContent).toBe('application password');
  });
});

const wordpress = {
  kind: 'wordpress',
  display_name: 'WordPress',
  capabilities: {
    ...listing('x', 'x', []).account.capabilities,
    kind: 'wordpress',
    sign_in: ['token', 'browser'],
    token_label: 'application password',
    token_page: '/wp-admin/profile.php',
  },
};

const page = 'http://127.0.0.1:8080/wp-admin/authorize-application.php?app_name=Keyward&success_url=http%3A%2F%2F127.0.0.1%3A40001%2Fapproved';

/** A finish that waits until the test settles it, as the core's does for the browser. */
function pendingFinish() {
  let settle!: { resolve: (l: unknown) => void; reject: (e: unknown) => void };
  const promise = new Promise((resolve, reject) => (settle = { resolve, reject }));
  return { fn: vi.fn(() => promise), settle };
}

function wordpressApi(over: Record<string, unknown> = {}) {
  return fakeApi({
    kinds: vi.fn(async () => [wordpress]),
    detect: vi.fn(async () => ({ kind: wordpress, base_url: 'http://127.0.0.1:8080', insecure: false, methods: ['token', 'browser'] })),
    startBrowserAdd: vi.fn(async () => ({ flow_id: 'flow-0', page, opened: true })),
    finishBrowserAdd: vi.fn(async () => listing('wp', 'admin@127.0.0.1:8080', [])),
    cancelBrowserAdd: vi.fn(async () => null),
    ...over,
  });
}

async function toMethods(api: any, onadded = vi.fn()) {
  render(AddAccountDialog, { props: { onadded, onclose() {}, api } });
  await fireEvent.input(screen.getByTestId('add-url'), { target: { value: '127.0.0.1:8080' } });
  await fireEvent.click(screen.getByTestId('add-continue'));
  await screen.findByTestId('add-login');
  return onadded;
}

describe('AddAccountDialog, the ways the server offers', () => {
  it('offers approval in the browser first when the server does, with the application password still there', async () => {
    await toMethods(wordpressApi());
    expect(screen.getByTestId('add-browser').textContent).toBe('Approve in your browser');
    expect(screen.getByTestId('add-browser').className).toMatch(/primary/);
    expect(screen.getByTestId('add-or-paste').textContent).toMatch(/Or paste your application password:/);
    expect(document.querySelector('label[for="add-secret"]')?.textContent).toBe('application password');
    expect(screen.getByTestId('add-submit').className).not.toMatch(/primary/);
    // Password and token are not both offered: no choice between them.
    expect(document.querySelector('input[type="radio"]')).toBeNull();
  });

  it('shows what the server said it offers, not what the kind could do', async () => {
    // A WordPress whose index names no authorisation page: the core found no browser approval.
    await toMethods(
      wordpressApi({
        detect: vi.fn(async () => ({ kind: wordpress, base_url: 'http://127.0.0.1:8080', insecure: false, methods: ['token'] })),
      }),
    );
    expect(screen.queryByTestId('add-browser')).toBeNull();
    expect(screen.getByTestId('add-secret')).toBeTruthy();
    expect(screen.getByTestId('add-submit').className).toMatch(/primary/);
  });

  it('offers no browser approval on a Matrix server that did not say it has one', async () => {
    await toMethods(fakeApi());
    expect(screen.queryByTestId('add-browser')).toBeNull();
    expect(document.querySelectorAll('input[type="radio"]').length).toBe(2);
  });
});

describe('AddAccountDialog, approval in the browser', () => {
  it('waits with the page shown as text, then closes like any add', async () => {
    const finish = pendingFinish();
    const api = wordpressApi({ finishBrowserAdd: finish.fn });
    const onadded = await toMethods(api);
    await fireEvent.input(screen.getByTestId('add-login'), { target: { value: 'admin' } });
    await fireEvent.click(screen.getByTestId('add-browser'));
    const waiting = await screen.findByTestId('add-waiting');
    expect(api.startBrowserAdd).toHaveBeenCalledWith({
      url: 'http://127.0.0.1:8080',
      kind: 'wordpress',
      login: 'admin',
      label: null,
      allow_insecure: false,
      choice: null,
    });
    expect(waiting.textContent).toMatch(/Waiting for you to approve Keyward in your browser…/);
    expect(screen.getByTestId('add-browser-page').textContent).toBe(page);
    expect(api.finishBrowserAdd).toHaveBeenCalledWith('flow-0');
    expect(onadded).not.toHaveBeenCalled();
    const added = listing('wp', 'admin@127.0.0.1:8080', []);
    finish.settle.resolve(added);
    await waitFor(() => expect(onadded).toHaveBeenCalledWith(added));
    expect(api.addAccount).not.toHaveBeenCalled();
  });

  it('says so when the browser did not open', async () => {
    const finish = pendingFinish();
    await toMethods(wordpressApi({ startBrowserAdd: vi.fn(async () => ({ flow_id: 'flow-0', page, opened: false })), finishBrowserAdd: finish.fn }));
    await fireEvent.click(screen.getByTestId('add-browser'));
    expect((await screen.findByTestId('add-waiting')).textContent).toMatch(/Your browser did not open/);
  });

  it('Cancel ends the wait through the core and goes back to the choice with its sentence', async () => {
    const finish = pendingFinish();
    const sentence = 'Keyward was not approved on 127.0.0.1:8080: the wait was cancelled; nothing was stored';
    const api = wordpressApi({
      finishBrowserAdd: finish.fn,
      cancelBrowserAdd: vi.fn(async () => {
        finish.settle.reject({ code: 'not_approved', message: sentence, remedy: null });
        return null;
      }),
    });
    const onadded = await toMethods(api);
    await fireEvent.click(screen.getByTestId('add-browser'));
    await fireEvent.click(await screen.findByTestId('add-browser-cancel'));
    expect(api.cancelBrowserAdd).toHaveBeenCalledWith('flow-0');
    expect((await screen.findByTestId('add-browser-error')).textContent).toMatch(sentence);
    expect(screen.queryByTestId('add-waiting')).toBeNull();
    expect(screen.getByTestId('add-browser')).toBeTruthy();
    expect(onadded).not.toHaveBeenCalled();
  });

  it('shows a rejection in the browser in the core’s one sentence', async () => {
    const sentence = 'admin@127.0.0.1:8080 rejected Keyward in the browser; nothing was stored';
    await toMethods(
      wordpressApi({
        finishBrowserAdd: vi.fn(async () => {
          throw { code: 'not_approved', message: sentence, remedy: null };
        }),
      }),
    );
    await fireEvent.click(screen.getByTestId('add-browser'));
    expect((await screen.findByTestId('add-browser-error')).textContent).toMatch(sentence);
    expect(screen.queryByTestId('add-waiting')).toBeNull();
  });

  it('puts a refusal to start next to the button, and does not wait', async () => {
    const api = wordpressApi({
      startBrowserAdd: vi.fn(async () => {
        throw { code: 'sign_in_method', message: '127.0.0.1:8080 does not say where apps are approved', remedy: null };
      }),
    });
    await toMethods(api);
    await fireEvent.click(screen.getByTestId('add-browser'));
    expect((await screen.findByTestId('add-browser-error')).textContent).toMatch(/does not say where apps are approved/);
    expect(api.finishBrowserAdd).not.toHaveBeenCalled();
  });

  it('asks for the plain-http yes before it starts', async () => {
    const api = wordpressApi({
      detect: vi.fn(async () => ({ kind: wordpress, base_url: 'http://wp.example.org', insecure: true, methods: ['token', 'browser'] })),
    });
    await toMethods(api);
    await fireEvent.click(screen.getByTestId('add-browser'));
    expect(screen.getByTestId('add-browser-error').textContent).toMatch(/Use plain http anyway/);
    expect(api.startBrowserAdd).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId('add-allow-insecure'));
    await fireEvent.click(screen.getByTestId('add-browser'));
    await waitFor(() => expect(api.startBrowserAdd).toHaveBeenCalledWith(expect.objectContaining({ allow_insecure: true })));
  });

  it('closing the dialog while waiting cancels the wait', async () => {
    const finish = pendingFinish();
    const api = wordpressApi({ finishBrowserAdd: finish.fn });
    const onclose = vi.fn();
    render(AddAccountDialog, { props: { onadded() {}, onclose, api } });
    await fireEvent.input(screen.getByTestId('add-url'), { target: { value: '127.0.0.1:8080' } });
    await fireEvent.click(screen.getByTestId('add-continue'));
    await fireEvent.click(await screen.findByTestId('add-browser'));
    await screen.findByTestId('add-waiting');
    await fireEvent.keyDown(screen.getByTestId('add-browser-cancel'), { key: 'Escape' });
    expect(onclose).toHaveBeenCalled();
    expect(api.cancelBrowserAdd).toHaveBeenCalledWith('flow-0');
  });
});

describe('AddAccountDialog, a second factor', () => {
  const homeassistant = {
    kind: 'homeassistant',
    display_name: 'Home Assistant',
    capabilities: { ...listing('x', 'x', []).account.capabilities, kind: 'homeassistant', sign_in: ['password', 'token'] },
  };

  it('asks for the one-time code when the core says the server wants one, and sends it with the password', async () => {
    let calls = 0;
    const api = fakeApi({
      kinds: vi.fn(async () => [homeassistant]),
      detect: vi.fn(async () => ({ kind: homeassistant, base_url: 'http://127.0.0.1:8123', insecure: false, methods: ['password', 'token'] })),
      addAccount: vi.fn(async () => {
        calls += 1;
        if (calls === 1) throw { code: 'code_needed', message: 'alice@127.0.0.1:8123 needs a one-time code from the authenticator app', remedy: { remedy: 'give_code' } };
        if (calls === 2) throw { code: 'wrong_code', message: 'the one-time code for alice@127.0.0.1:8123 was wrong', remedy: { remedy: 'give_code' } };
        return listing('ha', 'alice@127.0.0.1:8123', []);
      }),
    });
    const onadded = vi.fn();
    render(AddAccountDialog, { props: { onadded, onclose() {}, api } });
    await fireEvent.input(screen.getByTestId('add-url'), { target: { value: '127.0.0.1:8123' } });
    await fireEvent.click(screen.getByTestId('add-continue'));
    await fireEvent.input(await screen.findByTestId('add-login'), { target: { value: 'alice' } });
    expect(screen.queryByTestId('add-code')).toBeNull();
    await fireEvent.input(screen.getByTestId('add-secret'), { target: { value: 'pw' } });
    await fireEvent.click(screen.getByTestId('add-submit'));
    expect((await screen.findByTestId('add-code-error')).textContent).toMatch(/needs a one-time code/);
    expect(screen.getByTestId('add-code')).toBeTruthy();
    await fireEvent.input(screen.getByTestId('add-secret'), { target: { value: 'pw' } });
    await fireEvent.input(screen.getByTestId('add-code'), { target: { value: '000000' } });
    await fireEvent.click(screen.getByTestId('add-submit'));
    await waitFor(() => expect(screen.getByTestId('add-code-error').textContent).toMatch(/was wrong/));
    expect(api.addAccount).toHaveBeenLastCalledWith(expect.objectContaining({ secret: 'pw', code: '000000' }));
    expect((screen.getByTestId('add-code') as HTMLInputElement).value).toBe('');
    await fireEvent.input(screen.getByTestId('add-secret'), { target: { value: 'pw' } });
    await fireEvent.input(screen.getByTestId('add-code'), { target: { value: '123456' } });
    await fireEvent.click(screen.getByTestId('add-submit'));
    await waitFor(() => expect(onadded).toHaveBeenCalled());
    expect(api.addAccount).toHaveBeenLastCalledWith(expect.objectContaining({ code: '123456' }));
  });
});

describe('AddAccountDialog, single sign-on with several identity providers', () => {
  const ssoApi = (choices = identityProviders) =>
    fakeApi({
      detect: vi.fn(async () => ({ kind: matrix, base_url: 'http://127.0.0.1:8008', insecure: false, methods: ['token', 'browser'], choices })),
      startBrowserAdd: vi.fn(async () => ({ flow_id: 'flow-1', page: 'http://127.0.0.1:8008/_matrix/client/v3/login/sso/redirect/oidc-two', opened: true })),
      finishBrowserAdd: pendingFinish().fn,
      cancelBrowserAdd: vi.fn(async () => null),
    });

  it('shows one button per identity provider, and starts the one picked', async () => {
    const api = ssoApi();
    render(AddAccountDialog, { props: { onadded: vi.fn(), onclose() {}, api } });
    await fireEvent.input(screen.getByTestId('add-url'), { target: { value: '127.0.0.1:8008' } });
    await fireEvent.click(screen.getByTestId('add-continue'));
    const buttons = await screen.findAllByTestId('add-browser-idp');
    expect(buttons.map((b) => b.textContent)).toEqual(['Continue with Test identity provider one', 'Continue with Test identity provider two']);
    expect(buttons[0].className).toMatch(/primary/);
    expect(buttons[1].className).not.toMatch(/primary/);
    // No password on this server: no password field, and no single "Approve" button either.
    expect(screen.queryByTestId('add-browser')).toBeNull();
    expect(document.querySelector('input[type="radio"]')).toBeNull();
    await fireEvent.click(buttons[1]);
    expect((await screen.findByTestId('add-waiting')).textContent).toMatch(/Waiting for you/);
    expect(api.startBrowserAdd).toHaveBeenCalledWith(expect.objectContaining({ url: 'http://127.0.0.1:8008', kind: 'matrix', choice: 'oidc-two' }));
  });

  it('shows a name the server sent as text, never as markup', async () => {
    const api = ssoApi([{ id: 'evil', name: '<img src=x onerror=alert(1)>Evil' }]);
    render(AddAccountDialog, { props: { onadded: vi.fn(), onclose() {}, api } });
    await fireEvent.input(screen.getByTestId('add-url'), { target: { value: '127.0.0.1:8008' } });
    await fireEvent.click(screen.getByTestId('add-continue'));
    const [button] = await screen.findAllByTestId('add-browser-idp');
    expect(button.textContent).toBe('Continue with <img src=x onerror=alert(1)>Evil');
    expect(button.querySelector('img')).toBeNull();
  });
});
