import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import BackgroundWatch from '../components/BackgroundWatch.svelte';

const toggle = () => screen.getByTestId('background-watch-toggle') as HTMLInputElement;

describe('BackgroundWatch', () => {
  it('shows the setting as the core has it (off), and switching it on asks the core and says what closing now does', async () => {
    const api = {
      backgroundWatch: vi.fn(async () => ({ on: false, tray: true })),
      setBackgroundWatch: vi.fn(async (on: boolean) => ({ on, tray: true })),
    };
    render(BackgroundWatch, { props: { api } });
    await waitFor(() => expect(toggle().disabled).toBe(false));
    expect(toggle().checked).toBe(false);
    expect(screen.queryByTestId('background-watch-hint')).toBeNull();

    await fireEvent.click(toggle());
    expect(api.setBackgroundWatch).toHaveBeenCalledWith(true);
    await waitFor(() => expect(screen.getByTestId('background-watch-hint').textContent).toMatch(/stays in the tray.*each new sign-in/));
    expect(toggle().checked).toBe(true);

    await fireEvent.click(toggle());
    expect(api.setBackgroundWatch).toHaveBeenLastCalledWith(false);
    await waitFor(() => expect(screen.queryByTestId('background-watch-hint')).toBeNull());
  });

  it('says plainly that closing quits where the desktop has no tray', async () => {
    const api = { backgroundWatch: vi.fn(async () => ({ on: true, tray: false })), setBackgroundWatch: vi.fn() };
    render(BackgroundWatch, { props: { api } });
    await waitFor(() => expect(screen.getByTestId('background-watch-hint').textContent).toMatch(/no tray icon: closing the window quits/));
    expect(toggle().checked).toBe(true);
  });

  it('keeps the box as it was when the core refuses, and shows the core sentence', async () => {
    const api = {
      backgroundWatch: vi.fn(async () => ({ on: false, tray: true })),
      setBackgroundWatch: vi.fn(async () => {
        throw { code: 'store', message: 'cannot write settings.json', remedy: null };
      }),
    };
    render(BackgroundWatch, { props: { api } });
    await waitFor(() => expect(toggle().disabled).toBe(false));
    await fireEvent.click(toggle());
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('cannot write settings.json'));
    expect(toggle().checked).toBe(false);
  });
});
