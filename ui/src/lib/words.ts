// Words the UI puts around the core's data: badge labels, kind names, time stamps.
// The plain-words summary of each credential comes from the core; nothing here decides meaning.

import type { Badge, CredentialKind, LastUsedMeaning } from './types';

export const BADGE_LABELS: Record<Badge, string> = {
  this_app: 'This app',
  inactive: 'Inactive 90+ days',
  never_used: 'Never used',
  expires_soon: 'Expires soon',
  expired: 'Expired',
  no_expiry: 'No expiry',
  unrecognised: 'Unrecognised',
};

export const KIND_PLURALS: Record<CredentialKind, string> = {
  session: 'Sessions',
  api_token: 'API tokens',
  oauth_grant: 'App authorisations',
  app_password: 'App passwords',
  push_registration: 'Push registrations',
  key: 'Keys',
};

export const KIND_NOUNS: Record<CredentialKind, string> = {
  session: 'session',
  api_token: 'API token',
  oauth_grant: 'app authorisation',
  app_password: 'app password',
  push_registration: 'push registration',
  key: 'key',
};

export const LAST_USED_LABELS: Record<LastUsedMeaning, string> = {
  used: 'Last used',
  refreshed: 'Last refreshed',
  modified: 'Last changed',
  used_day: 'Last used (day)',
};

export function kindPlural(k: string): string {
  return (KIND_PLURALS as Record<string, string>)[k] ?? k;
}

export function kindNoun(k: string): string {
  return (KIND_NOUNS as Record<string, string>)[k] ?? k;
}

export function badgeLabel(b: string): string {
  return (BADGE_LABELS as Record<string, string>)[b] ?? b;
}

/** "22 Nov 2026, 14:05" in the user's locale. */
export function absoluteTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "3 days ago", "in 2 hours". */
export function relativeTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return '';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const secs = Math.round((t - now.getTime()) / 1000);
  const abs = Math.abs(secs);
  const fmt = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (abs < 60) return secs <= 0 ? 'just now' : 'in a moment';
  if (abs < 3600) return fmt.format(Math.round(secs / 60), 'minute');
  if (abs < 86400) return fmt.format(Math.round(secs / 3600), 'hour');
  if (abs < 86400 * 30) return fmt.format(Math.round(secs / 86400), 'day');
  if (abs < 86400 * 365) return fmt.format(Math.round(secs / (86400 * 30)), 'month');
  return fmt.format(Math.round(secs / (86400 * 365)), 'year');
}

/** What to call revoking: sessions are signed out, everything else is revoked. */
export function revokeVerb(kind: string): string {
  return kind === 'session' ? 'Sign out' : 'Revoke';
}
