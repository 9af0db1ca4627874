//! The client recogniser against a corpus of real-world hints (`tests/data/clients/hints.json`,
//! sources in `tests/data/clients/README.md`): every case must come out as written, and every rule
//! of `clients.rs` must have at least one case it decides and one look-alike it must not claim.
//!
//! Not here: the wording of the summary line (unit tests in `summary.rs`) and timing (the
//! `summary` benchmark).

use keyward::clients::{self, Client};
use keyward::model::ClientHints;
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Case {
    hints: ClientHints,
    /// Expected name (`null`: no client at all). Absent in negative cases that only say `not`.
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    os: Option<Option<String>>,
    #[serde(default)]
    device: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    browser: Option<String>,
    #[serde(default)]
    form: Option<Value>,
    #[serde(default)]
    recognised: Option<bool>,
    /// A client no rule of `clients.rs` may claim for these hints (what uap-core says is its own
    /// business); a trailing `*` makes it a prefix.
    #[serde(default)]
    not: Option<String>,
    #[allow(dead_code)]
    source: String,
}

/// Tells "absent" (outer `None`) from "null" (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

fn corpus() -> Vec<Case> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/clients/hints.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn describe(h: &ClientHints) -> String {
    serde_json::to_string(h).unwrap()
}

/// What is wrong with one case's result, if anything.
fn mismatch(case: &Case, got: &Option<Client>) -> Option<String> {
    let mut wrong = Vec::new();
    if let Some(name) = &case.name {
        let got_name = got.as_ref().map(|c| c.name.clone());
        if &got_name != name {
            wrong.push(format!("name {got_name:?}, want {name:?}"));
        }
    }
    if let Some(c) = got {
        if let Some(os) = &case.os {
            if &c.os != os {
                wrong.push(format!("os {:?}, want {os:?}", c.os));
            }
        }
        if case.device.is_some() && c.device != case.device {
            wrong.push(format!("device {:?}, want {:?}", c.device, case.device));
        }
        if case.version.is_some() && c.version != case.version {
            wrong.push(format!("version {:?}, want {:?}", c.version, case.version));
        }
        if case.browser.is_some() && c.browser != case.browser {
            wrong.push(format!("browser {:?}, want {:?}", c.browser, case.browser));
        }
        if let Some(form) = &case.form {
            let got_form = serde_json::to_value(c.form).unwrap();
            if &got_form != form {
                wrong.push(format!("form {got_form}, want {form}"));
            }
        }
        if let Some(r) = case.recognised {
            if c.recognised != r {
                wrong.push(format!("recognised {}, want {r}", c.recognised));
            }
        }
    }
    if let Some(not) = &case.not {
        let rules = clients::rule_table();
        if let Some(i) = clients::deciding_rule(&case.hints) {
            if speaks_of(not, rules[i].0) {
                wrong.push(format!("rule {i} ({}) claims it, which it must not", rules[i].0));
            }
        }
    }
    (!wrong.is_empty()).then(|| format!("{}: {}", describe(&case.hints), wrong.join("; ")))
}

/// Does a `not` entry speak of the rule named `template` ("mautrix-{x} bridge")?
fn speaks_of(not: &str, template: &str) -> bool {
    match not.strip_suffix('*') {
        Some(prefix) => template.to_lowercase().starts_with(&prefix.to_lowercase()),
        None if !template.contains("{x}") => template.eq_ignore_ascii_case(not),
        None => {
            let pattern = format!("(?i)^{}$", regex::escape(template).replace(r"\{x\}", ".+"));
            Regex::new(&pattern).unwrap().is_match(not)
        }
    }
}

fn reads_any(h: &ClientHints, fields: &[&str]) -> bool {
    let v = serde_json::to_value(h).unwrap();
    fields.iter().any(|f| v.get(*f).is_some_and(|x| !x.is_null()))
}

#[test]
fn corpus_has_at_least_300_real_world_hints() {
    let n = corpus().len();
    assert!(n >= 300, "only {n} cases");
}

#[test]
fn every_hint_in_the_corpus_is_recognised_as_written() {
    clients::warm_up();
    let cases = corpus();
    let failures: Vec<String> = cases.iter().filter_map(|c| mismatch(c, &clients::recognise(&c.hints))).collect();
    assert!(failures.is_empty(), "{} of {} cases wrong:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn every_rule_has_cases_that_match_and_cases_that_must_not() {
    let cases = corpus();
    let decided: Vec<Option<usize>> = cases.iter().map(|c| if c.not.is_none() { clients::deciding_rule(&c.hints) } else { None }).collect();
    let mut missing = Vec::new();
    for (i, (name, fields)) in clients::rule_table().into_iter().enumerate() {
        let matched = decided.contains(&Some(i));
        if !matched {
            missing.push(format!("rule {i} ({name}, reads {fields:?}) decides no case"));
        }
        let refused = cases.iter().any(|c| c.not.as_deref().is_some_and(|n| speaks_of(n, name)) && reads_any(&c.hints, &fields));
        if !refused {
            missing.push(format!("rule {i} ({name}, reads {fields:?}) has no look-alike that must not match"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
