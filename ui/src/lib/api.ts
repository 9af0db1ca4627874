// The web view's way to the app: the generated command bindings (bindings.ts, from the Rust
// commands), used as they are. A failed command rejects with the core's `UiError` (code, one
// plain sentence, a structured remedy); `asApiError` turns anything else thrown into one.

import { commands, type UiError } from './bindings';

export const api = commands;
export type Api = typeof commands;

/** Turns anything a command threw into a UiError. */
export function asApiError(e: unknown): UiError {
  if (e && typeof e === 'object' && 'message' in e && 'code' in e) {
    const err = e as Partial<UiError>;
    return { code: String(err.code), message: String(err.message), remedy: err.remedy ?? null };
  }
  if (typeof e === 'string') return { code: 'internal', message: e, remedy: null };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e), remedy: null };
}
