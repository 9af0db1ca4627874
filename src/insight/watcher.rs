//! Keeping watch: refreshing every account now and then and telling what changed, for
//! `keyward watch` and the app's background watch.
//!
//! [`Schedule`] decides when each account is refreshed next: every interval (default 15
//! minutes), jittered so that many accounts (and many Keyward users) do not all ask at once;
//! backing off after errors (twice the wait per failure in a row, at most six hours); and, when
//! every account failed for want of a network, paused: nothing is counted as a failure, and all
//! are tried again together a minute later (the network is back when any answers).
//! [`Keyward::watch_round`] refreshes the accounts that are due and returns the changes not told
//! yet. It never marks changes as seen: that is the user's looking (`keyward changes`, the app's
//! banner), and a watch only tells.
//!
//! [`Keyward::keep_watch`] runs rounds until its face says stop, sleeping until the next account
//! is due; [`Keyward::background_watch`] is the app's: rounds while the `keep_watching` setting
//! is on, each new sign-in worded as a [`Notice`] (masked in screen-share-safe mode).
//!
//! Not here: how a face tells (a line in a terminal, a desktop notification).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::changes::ChangeKind;
use super::ops::ChangeView;
use crate::error::{Error, Result};
use crate::model::Account;
use crate::service::Keyward;

/// How often a watch refreshes when the user does not say.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// The shortest interval a watch accepts: servers are not to be polled harder than this.
pub const MIN_INTERVAL: Duration = Duration::from_secs(2);
/// The longest wait after errors.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);
/// How soon all accounts are tried again when none could be reached.
const OFFLINE_RETRY: Duration = Duration::from_secs(60);

/// When each account is refreshed next.
#[derive(Debug, Clone)]
pub struct Schedule {
    interval: Duration,
    /// Per account id: when it is due, and its failures in a row.
    due: BTreeMap<String, (DateTime<Utc>, u32)>,
    /// Every account failed for want of a network in the last round.
    pub offline: bool,
}

impl Schedule {
    pub fn new(interval: Duration) -> Self {
        Schedule { interval: interval.max(MIN_INTERVAL), due: BTreeMap::new(), offline: false }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The accounts due at `now`, among `accounts` (a new one is due at once; one removed is
    /// forgotten).
    pub fn due_now(&mut self, accounts: &[Account], now: DateTime<Utc>) -> Vec<Account> {
        let ids: BTreeSet<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
        self.due.retain(|id, _| ids.contains(id.as_str()));
        accounts.iter().filter(|a| self.due.get(&a.id).is_none_or(|(at, _)| *at <= now)).cloned().collect()
    }

    /// When the next account is due (now, when one has never been refreshed).
    pub fn next_due(&self, accounts: &[Account], now: DateTime<Utc>) -> DateTime<Utc> {
        accounts.iter().map(|a| self.due.get(&a.id).map_or(now, |(at, _)| *at)).min().unwrap_or(now + span(self.interval))
    }

    /// Records how one round's refreshes went: `results` per account id (`Ok` or the error).
    pub fn record(&mut self, results: &[(String, std::result::Result<(), &Error>)], now: DateTime<Utc>) {
        let offline = !results.is_empty() && results.iter().all(|(_, r)| matches!(r, Err(e) if no_network(e)));
        self.offline = offline;
        for (id, r) in results {
            let failures = self.due.get(id).map_or(0, |(_, f)| *f);
            let (wait, failures) = match r {
                // Nobody answered: the network is gone, which is no account's failure.
                Err(_) if offline => (OFFLINE_RETRY, failures),
                Ok(()) => (jittered(self.interval, id, now), 0),
                Err(e) => {
                    let f = failures + 1;
                    let backoff = self.interval.saturating_mul(1 << f.min(16)).min(MAX_BACKOFF);
                    // A server that said how long to wait is believed, within the same bound.
                    let asked = match e {
                        Error::RateLimited { secs, .. } => Duration::from_secs(*secs),
                        _ => Duration::ZERO,
                    };
                    (backoff.max(asked).min(MAX_BACKOFF), f)
                }
            };
            self.due.insert(id.clone(), (now + span(wait), failures));
        }
    }
}

/// The interval, moved by up to a tenth either way, differently per account and round.
fn jittered(interval: Duration, id: &str, now: DateTime<Utc>) -> Duration {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (id, now.timestamp_micros()).hash(&mut h);
    let unit = (h.finish() % 2001) as f64 / 1000.0 - 1.0; // -1.0 ..= 1.0
    interval.mul_f64(1.0 + unit / 10.0)
}

fn span(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// An error that says the network (not the server, not the account) is missing.
fn no_network(e: &Error) -> bool {
    matches!(e, Error::Unreachable { .. } | Error::Timeout { .. })
}

/// What one round found.
#[derive(Debug, Default)]
pub struct Round {
    /// Changes not told before by this watch, oldest first.
    pub changes: Vec<ChangeView>,
    /// Accounts whose refresh failed this round and did not fail the round before (an error is
    /// told once, when it starts, not every round).
    pub new_errors: Vec<(String, Error)>,
    /// Accounts that work again after failing.
    pub recovered: Vec<String>,
}

/// How long a waiting watch sleeps at most before asking its face whether it is still wanted.
const NAP: Duration = Duration::from_secs(30);

/// How long a watch every `interval` naps at most: [`NAP`], or the interval when it is shorter (a
/// watch every few seconds, `KEYWARD_WATCH_MINUTES` in the app, starts within one of them once
/// switched on).
fn nap(interval: Duration) -> Duration {
    NAP.min(interval.max(MIN_INTERVAL))
}

/// A face of a watch: tells what each round found, and says whether to go on.
pub trait Face {
    /// Tells what a round found; `false` ends the watch (nobody listens any more).
    fn tell(&mut self, round: Round, schedule: &Schedule) -> bool;
    /// Asked after every round and every [`NAP`] while waiting: `false` ends the watch (the user
    /// switched it off).
    fn still_wanted(&mut self) -> bool {
        true
    }
}

/// A desktop notification's words for one change: "New sign-in to alice@matrix.org", then the
/// credential's line ("Firefox on Windows · active 2 minutes ago · 198.51.100.7"). Server text is
/// made safe for one line, and without `<` `>` `&`, which a notification server may take as markup
/// (a link or an image from a hostile device name). Never a secret: the line is the summary the
/// listing shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

impl Notice {
    /// What deserves a notification: a new sign-in, and a credential used from a new address. A
    /// credential gone is no alarm.
    pub fn of(c: &ChangeView) -> Option<Notice> {
        let account = plain(&c.account);
        // The name the session or token goes by ("Firefox on Windows"), when the line does not
        // already say it.
        let line = match c.name.as_deref().map(plain).filter(|n| !n.is_empty() && !c.summary.contains(n.as_str())) {
            Some(name) => format!("{name} · {}", plain(&c.summary)),
            None => plain(&c.summary),
        };
        let (title, body) = match c.change {
            ChangeKind::Appeared => (format!("New sign-in to {account}"), line),
            ChangeKind::NewAddress => (
                format!("{account} used from a new address"),
                match c.address.as_deref() {
                    Some(a) => format!("{}: {line}", plain(a)),
                    None => line,
                },
            ),
            ChangeKind::Disappeared => return None,
        };
        Some(Notice { title, body })
    }

    /// Title and body in one line: "New sign-in to alice@matrix.org: Firefox on Windows · …".
    pub fn line(&self) -> String {
        format!("{}: {}", self.title, self.body)
    }
}

/// Server text for a notification: one safe line, no markup characters.
fn plain(s: &str) -> String {
    crate::text::line(s, crate::text::FIELD_MAX)
        .chars()
        .map(|c| match c {
            '<' => '‹',
            '>' => '›',
            '&' => '+',
            c => c,
        })
        .collect()
}

/// A watch over every account: its schedule and what it has told so far.
#[derive(Debug)]
pub struct Watcher {
    pub schedule: Schedule,
    told: BTreeSet<(String, String, String, i64)>,
    failing: BTreeSet<String>,
}

impl Watcher {
    /// A watch that has told nothing yet: its first round tells the changes still pending from
    /// before it started, then each new one once.
    pub fn new(interval: Duration) -> Self {
        Watcher { schedule: Schedule::new(interval), told: BTreeSet::new(), failing: BTreeSet::new() }
    }

    /// Counts `changes` as told already (the app's banner shows those pending when its watch
    /// starts; only what appears after is news).
    pub fn already_told(&mut self, changes: Vec<ChangeView>) {
        self.untold(changes);
    }

    fn untold(&mut self, changes: Vec<ChangeView>) -> Vec<ChangeView> {
        changes
            .into_iter()
            .filter(|c| {
                let key = (c.account_id.clone(), c.credential_id.clone(), format!("{:?}", c.change), c.at.timestamp_micros());
                self.told.insert(key)
            })
            .collect()
    }
}

impl Keyward {
    /// Refreshes the accounts that are due (all at once, one failure never stopping the
    /// others) and returns what this watch has not told yet.
    pub async fn watch_round(&self, w: &mut Watcher) -> Result<Round> {
        let now = Utc::now();
        let accounts: Vec<Account> = self.accounts()?.into_iter().filter(|a| a.signed_in).collect();
        let due = w.schedule.due_now(&accounts, now);
        let results = self.refresh_many(&due).await;
        let mut round = Round::default();
        let mut outcome = Vec::new();
        for (a, r) in due.iter().zip(results) {
            match r {
                Ok(_) => {
                    if w.failing.remove(&a.id) {
                        round.recovered.push(a.name());
                    }
                    outcome.push((a.id.clone(), Ok(())));
                }
                Err(e) => {
                    outcome.push((a.id.clone(), Err(e)));
                }
            }
        }
        let view: Vec<(String, std::result::Result<(), &Error>)> =
            outcome.iter().map(|(id, r)| (id.clone(), r.as_ref().map(|_| ()))).collect();
        w.schedule.record(&view, Utc::now());
        for ((id, r), a) in outcome.into_iter().zip(&due) {
            if let Err(e) = r {
                if w.failing.insert(id) {
                    round.new_errors.push((a.name(), e));
                }
            }
        }
        let pending = self.changes(None)?;
        round.changes = w.untold(pending);
        Ok(round)
    }

    /// Rounds of [`Keyward::watch_round`] until `face` says stop, each followed by a sleep until
    /// the next account is due (in naps of at most [`NAP`], asking `face` between them). A round
    /// that cannot read the store ends the watch with its error.
    pub async fn keep_watch(&self, w: &mut Watcher, face: &mut impl Face) -> Result<()> {
        loop {
            let round = self.watch_round(w).await?;
            if !face.tell(round, &w.schedule) || !face.still_wanted() {
                return Ok(());
            }
            let next = w.schedule.next_due(&self.accounts()?, Utc::now());
            loop {
                let left = (next - Utc::now()).to_std().unwrap_or_default();
                if left.is_zero() {
                    break;
                }
                tokio::time::sleep(left.min(nap(w.schedule.interval()))).await;
                if !face.still_wanted() {
                    return Ok(());
                }
            }
        }
    }

    /// The app's background watch, for as long as the app runs: while the `keep_watching`
    /// setting is on (looked at every [`NAP`], or `interval` when shorter), rounds every
    /// `interval` (jittered, backing off, paused offline: [`Schedule`]), and `notify` gets the
    /// [`Notice`] of each new sign-in (masked while screen-share-safe mode is on). Changes
    /// already pending when it starts are the banner's, not news. A store that cannot be read is
    /// retried a minute later.
    pub async fn background_watch(&self, interval: Duration, mut notify: impl FnMut(Notice)) {
        struct App<'a, F> {
            kw: &'a Keyward,
            notify: F,
        }
        impl<F: FnMut(Notice)> Face for App<'_, F> {
            fn tell(&mut self, round: Round, _: &Schedule) -> bool {
                for c in round.changes {
                    let c = self.kw.shown(c.clone(), false).unwrap_or(c);
                    if let Some(n) = Notice::of(&c) {
                        (self.notify)(n);
                    }
                }
                true
            }
            fn still_wanted(&mut self) -> bool {
                self.kw.keep_watching().unwrap_or(false)
            }
        }
        let mut face = App { kw: self, notify: &mut notify };
        loop {
            if !face.still_wanted() {
                tokio::time::sleep(nap(interval)).await;
                continue;
            }
            let mut w = Watcher::new(interval);
            w.already_told(self.changes(None).unwrap_or_default());
            if let Err(e) = self.keep_watch(&mut w, &mut face).await {
                tracing::warn!("the background watch stopped: {e}; trying again in a minute");
                tokio::time::sleep(OFFLINE_RETRY).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str) -> Account {
        Account {
            id: id.into(),
            kind: crate::providers::matrix::KIND,
            base_url: "https://example.org".into(),
            login: "alice".into(),
            user_id: "@alice:example.org".into(),
            label: None,
            own_credential: None,
            server_facts: vec![],
            signed_in: true,
            added: Utc::now(),
        }
    }

    fn down() -> Error {
        Error::Unreachable { host: "example.org".into(), reason: "connection refused".into() }
    }

    #[test]
    fn new_accounts_are_due_at_once_and_then_after_about_the_interval() {
        let mut s = Schedule::new(Duration::from_secs(900));
        let (a, b) = (account("a"), account("b"));
        let now = Utc::now();
        assert_eq!(s.due_now(&[a.clone(), b.clone()], now).len(), 2);
        s.record(&[("a".into(), Ok(())), ("b".into(), Ok(()))], now);
        assert!(s.due_now(&[a.clone(), b.clone()], now + chrono::Duration::seconds(800)).is_empty());
        assert_eq!(s.due_now(&[a.clone(), b.clone()], now + chrono::Duration::seconds(1000)).len(), 2);
        let next = s.next_due(&[a, b], now);
        assert!(next >= now + chrono::Duration::seconds(810) && next <= now + chrono::Duration::seconds(990), "{next} vs {now}");
    }

    #[test]
    fn jitter_spreads_accounts_within_a_tenth() {
        let now = Utc::now();
        let waits: BTreeSet<u128> = (0..50).map(|i| jittered(Duration::from_secs(900), &format!("acc{i}"), now).as_millis()).collect();
        assert!(waits.len() > 40, "spread: {waits:?}");
        assert!(waits.iter().all(|w| (810_000..=990_000).contains(w)), "{waits:?}");
    }

    #[test]
    fn errors_back_off_and_a_success_resets() {
        let mut s = Schedule::new(Duration::from_secs(60));
        let now = Utc::now();
        let refused = Error::Server { host: "example.org".into(), message: "boom".into() };
        s.record(&[("a".into(), Err(&refused)), ("b".into(), Ok(()))], now);
        assert_eq!(s.due["a"], (now + chrono::Duration::seconds(120), 1));
        s.record(&[("a".into(), Err(&refused))], now);
        assert_eq!(s.due["a"], (now + chrono::Duration::seconds(240), 2));
        for _ in 0..30 {
            s.record(&[("a".into(), Err(&refused))], now);
        }
        assert_eq!(s.due["a"].0, now + span(MAX_BACKOFF), "bounded");
        s.record(&[("a".into(), Ok(()))], now);
        assert_eq!(s.due["a"].1, 0);
        assert!(!s.offline);
    }

    #[test]
    fn a_server_asking_to_wait_is_believed_within_bounds() {
        let mut s = Schedule::new(Duration::from_secs(60));
        let now = Utc::now();
        let slow = Error::RateLimited { host: "example.org".into(), secs: 3600 };
        s.record(&[("a".into(), Err(&slow))], now);
        assert_eq!(s.due["a"].0, now + chrono::Duration::seconds(3600));
    }

    #[test]
    fn no_network_at_all_pauses_without_counting_failures() {
        let mut s = Schedule::new(Duration::from_secs(900));
        let now = Utc::now();
        let (e1, e2) = (down(), down());
        s.record(&[("a".into(), Err(&e1)), ("b".into(), Err(&e2))], now);
        assert!(s.offline);
        assert_eq!(s.due["a"], (now + span(OFFLINE_RETRY), 0));
        // One server down while another answers is that server's failure.
        s.record(&[("a".into(), Err(&e1)), ("b".into(), Ok(()))], now);
        assert!(!s.offline);
        assert_eq!(s.due["a"].1, 1);
    }

    #[test]
    fn the_interval_has_a_floor_and_removed_accounts_are_forgotten() {
        let mut s = Schedule::new(Duration::from_millis(1));
        assert_eq!(s.interval(), MIN_INTERVAL);
        let now = Utc::now();
        s.record(&[("gone".into(), Ok(()))], now);
        s.due_now(&[account("a")], now);
        assert!(!s.due.contains_key("gone"));
    }

    #[test]
    fn a_short_watch_looks_at_its_setting_as_often_as_it_refreshes() {
        assert_eq!(nap(DEFAULT_INTERVAL), NAP);
        assert_eq!(nap(Duration::from_secs(3)), Duration::from_secs(3));
        assert_eq!(nap(Duration::from_millis(1)), MIN_INTERVAL);
    }

    fn change(kind: ChangeKind, summary: &str) -> ChangeView {
        ChangeView {
            account: "alice@matrix.org".into(),
            account_id: "a".into(),
            credential_id: "DEV".into(),
            change: kind,
            name: None,
            summary: summary.into(),
            words: format!("New since you last looked: {summary}"),
            at: Utc::now(),
            address: Some("198.51.100.7".into()),
        }
    }

    #[test]
    fn a_new_sign_in_is_noticed_in_the_cores_words_and_a_gone_one_is_not() {
        let n = Notice::of(&change(ChangeKind::Appeared, "Firefox on Windows · active 2 minutes ago · 198.51.100.7")).unwrap();
        assert_eq!(n.title, "New sign-in to alice@matrix.org");
        assert_eq!(n.body, "Firefox on Windows · active 2 minutes ago · 198.51.100.7");
        assert_eq!(n.line(), "New sign-in to alice@matrix.org: Firefox on Windows · active 2 minutes ago · 198.51.100.7");
        let moved = Notice::of(&change(ChangeKind::NewAddress, "Element on Pixel 8")).unwrap();
        assert_eq!(moved.title, "alice@matrix.org used from a new address");
        assert_eq!(moved.body, "198.51.100.7: Element on Pixel 8");
        assert_eq!(Notice::of(&change(ChangeKind::Disappeared, "Firefox on Windows")), None);
        let mut named = change(ChangeKind::Appeared, "Session · active 2 minutes ago · 198.51.100.7");
        named.name = Some("Firefox on Windows".into());
        assert_eq!(Notice::of(&named).unwrap().body, "Firefox on Windows · Session · active 2 minutes ago · 198.51.100.7");
    }

    #[test]
    fn a_hostile_device_name_is_no_markup_and_one_line_in_a_notice() {
        let n =
            Notice::of(&change(ChangeKind::Appeared, "<a href=\"https://evil.example\">Update</a>\n<img src=x> &amp;\u{202E}x")).unwrap();
        assert!(!n.body.contains(['<', '>', '&', '\n', '\u{202E}']), "{}", n.body);
        assert!(n.body.contains("Update"), "{}", n.body);
    }

    #[test]
    fn changes_pending_before_the_watch_started_are_not_news() {
        let mut w = Watcher::new(DEFAULT_INTERVAL);
        let old = change(ChangeKind::Appeared, "Firefox on Windows");
        w.already_told(vec![old.clone()]);
        let mut new = change(ChangeKind::Appeared, "Element on Pixel 8");
        new.credential_id = "PHONE".into();
        assert_eq!(w.untold(vec![old, new.clone()]), vec![new]);
    }

    #[test]
    fn each_change_is_told_once() {
        let c = ChangeView {
            account: "alice@example.org".into(),
            account_id: "a".into(),
            credential_id: "DEV".into(),
            change: super::super::changes::ChangeKind::Appeared,
            name: None,
            summary: "Firefox on Windows".into(),
            words: "New since you last looked: Firefox on Windows".into(),
            at: Utc::now(),
            address: None,
        };
        let mut w = Watcher::new(DEFAULT_INTERVAL);
        assert_eq!(w.untold(vec![c.clone()]).len(), 1);
        assert!(w.untold(vec![c.clone()]).is_empty());
        let mut gone = c.clone();
        gone.change = super::super::changes::ChangeKind::Disappeared;
        assert_eq!(w.untold(vec![c, gone]).len(), 1, "the same device going away is news");
    }
}
