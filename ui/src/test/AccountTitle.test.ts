import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import AccountTitle from '../components/AccountTitle.svelte';
import { listing } from './fixtures';

const alice = listing('acc1', 'alice@127.0.0.1:8008', []);

function labelled(label: string | null) {
  return { ...alice, account: { ...alice.account, label, name: label ?? 'alice@127.0.0.1:8008' } };
}

describe('AccountTitle', () => {
  it('renames the account inline through set_label and hands back the listing', async () => {
    const setLabel = vi.fn(async (_id: string, label: string) => labelled(label));
    const onrenamed = vi.fn();
    render(AccountTitle, { props: { account: alice.account, onrenamed, api: { setLabel } } });
    expect(screen.getByTestId('account-title').textContent).toBe('alice@127.0.0.1:8008');
    await fireEvent.click(screen.getByTestId('rename-account'));
    const input = screen.getByTestId('account-label-input') as HTMLInputElement;
    expect(input.value).toBe('');
    await fireEvent.input(input, { target: { value: '  Work Matrix  ' } });
    await fireEvent.click(screen.getByTestId('account-label-save'));
    expect(setLabel).toHaveBeenCalledWith('acc1', 'Work Matrix');
    await waitFor(() => expect(onrenamed).toHaveBeenCalledWith(labelled('Work Matrix')));
    expect(screen.queryByTestId('account-label-input')).toBeNull();
  });

  it('clears the label when the field is left empty', async () => {
    const setLabel = vi.fn(async (_id: string, label: string) => labelled(label || null));
    const onrenamed = vi.fn();
    render(AccountTitle, { props: { account: labelled('Work Matrix').account, onrenamed, api: { setLabel } } });
    await fireEvent.click(screen.getByTestId('rename-account'));
    const input = screen.getByTestId('account-label-input') as HTMLInputElement;
    expect(input.value).toBe('Work Matrix');
    await fireEvent.input(input, { target: { value: '' } });
    await fireEvent.click(screen.getByTestId('account-label-save'));
    expect(setLabel).toHaveBeenCalledWith('acc1', '');
    await waitFor(() => expect(onrenamed).toHaveBeenCalledWith(labelled(null)));
  });

  it('shows a label already in use next to the field, in one sentence, and keeps the edit open', async () => {
    const setLabel = vi.fn(async () => {
      throw { code: 'input', message: 'the label "Home" already names another account' };
    });
    const onrenamed = vi.fn();
    render(AccountTitle, { props: { account: alice.account, onrenamed, api: { setLabel } } });
    await fireEvent.click(screen.getByTestId('rename-account'));
    const input = screen.getByTestId('account-label-input') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: 'Home' } });
    await fireEvent.click(screen.getByTestId('account-label-save'));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('the label "Home" already names another account'));
    expect(input.getAttribute('aria-describedby')).toBe('account-label-error');
    expect((screen.getByTestId('account-label-input') as HTMLInputElement).value).toBe('Home');
    expect(onrenamed).not.toHaveBeenCalled();
  });

  it('Esc cancels the edit and changes nothing', async () => {
    const setLabel = vi.fn();
    render(AccountTitle, { props: { account: alice.account, onrenamed: vi.fn(), api: { setLabel } } });
    await fireEvent.click(screen.getByTestId('rename-account'));
    await fireEvent.keyDown(screen.getByTestId('account-label-input'), { key: 'Escape' });
    expect(screen.queryByTestId('account-label-input')).toBeNull();
    expect(screen.getByTestId('account-title').textContent).toBe('alice@127.0.0.1:8008');
    expect(setLabel).not.toHaveBeenCalled();
  });
});
