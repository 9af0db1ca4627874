// The app's own labels for what the core sends as data: badge names, the names of the orders,
// the verbs of the revoke buttons, and the remedies worded as this app's buttons. Nothing here
// decides anything: which badge a row has, how rows sort, what a time says, what a kind of
// credential is called, all come from the core.

import type { Badge, Remedy, RevokeVerb } from './bindings';
import type { SortOrder } from './listing';

export const BADGE_LABELS: Record<Badge, string> = {
  this_app: 'This app',
  inactive: 'Inactive 90+ days',
  never_used: 'Never used',
  expires_soon: 'Expires soon',
  expired: 'Expired',
  no_expiry: 'No expiry',
  unrecognised: 'Unrecognised',
};

export function badgeLabel(b: Badge): string {
  return BADGE_LABELS[b] ?? b;
}

export const SORT_LABELS: Record<SortOrder, string> = {
  recent: 'Recent first',
  oldest: 'Oldest first',
  name: 'By name',
};

/** The button for revoking one credential, by what revoking does to it (the core says which). */
export const REVOKE_VERBS: Record<RevokeVerb, string> = {
  sign_out: 'Sign out',
  revoke: 'Revoke',
  replace: 'Replace',
};

/** A remedy in this app's words: the button that does it (when one does) and a sentence. */
export interface RemedyWords {
  /** The label of the button that does it, where the app has one. */
  button: string | null;
  /** What to do, in one sentence naming this app's buttons, never a command-line flag. */
  hint: string;
}

export function remedyWords(r: Remedy | null | undefined): RemedyWords | null {
  if (!r) return null;
  switch (r.remedy) {
    case 'use_token':
      return {
        button: 'Paste a token instead',
        hint: `Choose “Paste a token instead” and paste ${article(r.label)} ${r.label}${r.page ? `, made on ${r.page}` : ''}.`,
      };
    case 'give_password':
      return { button: 'Enter the password', hint: 'Enter the account’s password and try again.' };
    case 'give_code':
      return { button: 'Enter the code', hint: 'Enter the one-time code from your second factor and try again.' };
    case 'sign_in_again':
      return { button: 'Sign in again', hint: 'Choose “Sign in again”.' };
    case 'choose_kind':
      return { button: null, hint: 'Choose the kind of server in “Kind of server”.' };
    case 'include_own_session':
      return { button: null, hint: 'Select Keyward’s own session too if it is meant to go.' };
    case 'allow_insecure':
      return { button: null, hint: 'Tick “Use plain http anyway” if this is really what you want.' };
    case 'allow_ending_session':
      return { button: null, hint: 'Tick “Sign in even if it ends another session” to go on.' };
    case 'open_page':
      return { button: 'Open the page ↗', hint: 'The server does this on its own page: choose “Open the page”.' };
    case 'ask_admin':
      return { button: null, hint: 'A site administrator must change a setting on the server.' };
    case 'wait':
      return { button: null, hint: `Try again in ${r.secs} seconds.` };
    case 'list_accounts':
      return { button: null, hint: 'The accounts on the left are the ones Keyward knows.' };
    case 'list_credentials':
      return { button: 'Refresh', hint: 'Choose “Refresh” to see what the account has now.' };
  }
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/** What the history says was done, in this app's words (the core's `Action`). */
export const HISTORY_VERBS: Record<import('./bindings').Action, string> = {
  rename: 'Renamed',
  revoke: 'Revoked',
  replace: 'Replaced',
  sign_out_others: 'Signed out (all other sessions)',
  asked_to_confirm: 'Sent to the server’s page to confirm',
};
