//! Benchmark (not a test): how long the summary lines of a big listing take.
//!
//! Builds 10,000 credentials over 300 distinct sets of client hints (taken from the corpus in
//! `tests/data/clients/hints.json`), loads the uap-core patterns once, then times summarising all
//! of them: the first pass (which recognises each distinct client once) and then repeated passes
//! (min and median). Run with `cargo bench --bench summary`. Prints figures; asserts nothing.

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, FixedOffset, Utc};
use keyward::clients;
use keyward::model::{ClientHints, Credential, CredentialKind, LastUsedMeaning, Usage};
use keyward::summary;

const CREDENTIALS: usize = 10_000;
const DISTINCT_HINTS: usize = 300;
const PASSES: usize = 30;

fn main() {
    let hints = distinct_hints();
    let now: DateTime<Utc> = Utc::now();
    let creds: Vec<Credential> = (0..CREDENTIALS).map(|i| credential(i, &hints, now)).collect();

    let t = Instant::now();
    clients::warm_up();
    let warm = t.elapsed();

    let t = Instant::now();
    let first = summarise_all(&creds, now);
    let first_pass = t.elapsed();

    let mut passes: Vec<StdDuration> = (0..PASSES)
        .map(|_| {
            let t = Instant::now();
            let n = summarise_all(&creds, now);
            let took = t.elapsed();
            assert_eq!(n, first);
            took
        })
        .collect();
    passes.sort();

    let recognise_only = median_of(|| creds.iter().filter(|c| clients::recognise(&c.hints).is_some()).count());
    let utc = FixedOffset::east_opt(0).expect("UTC");
    let fixed_zone = median_of(|| creds.iter().map(|c| summary::summarise_at(c, now, &utc).line.len()).sum::<usize>());

    println!("summary benchmark: {CREDENTIALS} credentials, {} distinct hints", hints.len());
    println!("  one-time pattern load (warm_up):        {:>8.1} ms", ms(warm));
    println!("  first pass (recognises each client once): {:>6.1} ms", ms(first_pass));
    println!("  later passes, min of {PASSES}:               {:>6.1} ms", ms(passes[0]));
    println!("  later passes, median of {PASSES}:            {:>6.1} ms", ms(passes[PASSES / 2]));
    println!("  per credential (median):                {:>6.2} µs", ms(passes[PASSES / 2]) * 1000.0 / CREDENTIALS as f64);
    println!("  of which recognising (remembered), median: {:>5.1} ms", ms(recognise_only));
    println!("  same passes in a fixed zone, median:    {:>6.1} ms", ms(fixed_zone));
}

/// The median time of `PASSES` runs of `f`.
fn median_of<T>(mut f: impl FnMut() -> T) -> StdDuration {
    let mut times: Vec<StdDuration> = (0..PASSES)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    times[PASSES / 2]
}

/// Summarises every credential; returns the total length of the lines so nothing is optimised away.
fn summarise_all(creds: &[Credential], now: DateTime<Utc>) -> usize {
    creds.iter().map(|c| summary::summarise(c, now).line.len()).sum()
}

fn ms(d: StdDuration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The first 300 distinct positive cases of the corpus.
fn distinct_hints() -> Vec<ClientHints> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/clients/hints.json")).expect("the corpus");
    let cases: Vec<serde_json::Value> = serde_json::from_str(&text).expect("the corpus is JSON");
    let mut out: Vec<ClientHints> = Vec::new();
    for case in cases.iter().filter(|c| c.get("not").is_none()) {
        let h: ClientHints = serde_json::from_value(case["hints"].clone()).expect("hints");
        if !out.contains(&h) {
            out.push(h);
        }
        if out.len() == DISTINCT_HINTS {
            break;
        }
    }
    assert_eq!(out.len(), DISTINCT_HINTS, "the corpus has fewer than {DISTINCT_HINTS} distinct positive cases");
    out
}

/// A credential of every shape the summary words: used recently or long ago, never used, use
/// not recorded, refreshed, used per day, expiring, expired, never expiring, per-client usage.
fn credential(i: usize, hints: &[ClientHints], now: DateTime<Utc>) -> Credential {
    let kinds = [CredentialKind::Session, CredentialKind::ApiToken, CredentialKind::AppPassword, CredentialKind::PushRegistration];
    let mut c = Credential::new(format!("c{i}"), kinds[i % kinds.len()]);
    c.hints = hints[i % hints.len()].clone();
    c.name = c.hints.device_name.clone().or_else(|| c.hints.note.clone());
    c.created = Some(now - Duration::days((i % 700) as i64));
    c.tracks_use = i % 5 != 0;
    c.last_used = (i % 7 != 0).then(|| now - Duration::minutes((i * 37 % 200_000) as i64));
    c.last_used_meaning = [LastUsedMeaning::Used, LastUsedMeaning::Refreshed, LastUsedMeaning::UsedDay, LastUsedMeaning::Modified][i % 4];
    c.last_ip = (i % 3 == 0).then(|| format!("203.0.113.{}", i % 250));
    match i % 6 {
        0 => c.expires = Some(now + Duration::hours((i % 400) as i64)),
        1 => c.expires = Some(now - Duration::days(2)),
        2 => c.never_expires = true,
        _ => {}
    }
    if i % 50 == 0 {
        c.usage = (0..3)
            .map(|k| Usage {
                hints: hints[(i + k * 17) % hints.len()].clone(),
                last_used: Some(now - Duration::hours((k * 30 + 1) as i64)),
                ip: Some("198.51.100.9".into()),
            })
            .collect();
    }
    c.current = i == 0;
    c
}
