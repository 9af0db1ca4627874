//! Screen-share-safe mode through the real CLI (`--safe`, and `keyward safe-mode on|off`, which
//! the app shares), against the simulated Moodle (`tests/sim/moodle.py`), seeded with browser
//! sessions from IPv4 and IPv6 addresses and a push device whose name carries another person's
//! e-mail address, an address and hostile characters. Every check compares with the same output
//! in clear first, so each one can fail: what must be hidden is there without the mode.

mod common;

use common::Cli;
use serde_json::{json, Value};

const PASSWORD: &str = "alice-pass-1\n";
const IPV4: &str = "198.51.100.23";
const IPV6: &str = "2001:db8:85a3::8a2e:370:7334";
const EMAIL: &str = "bob.smith@evil.example";
const IN_NAME_IP: &str = "203.0.113.77";
/// What no masked output may contain, in any form.
const HIDDEN: &[&str] = &[IPV4, IPV6, "8a2e:370:7334", "bob.smith", "evil.example", IN_NAME_IP];

struct Seeded {
    sim: common::sim::Sim,
    cli: Cli,
    account: String,
}

fn seeded() -> Seeded {
    let sim = common::sim::Sim::start("moodle", &[]);
    let cli = Cli::new();
    let out = cli.run(&["add", &sim.url(), "--user", "alice", "--password-stdin", "--json"], Some(PASSWORD)).expect_ok();
    let account = out.json()["name"].as_str().unwrap().to_string();
    // A first look, so what follows is new to the checkup (which then names its addresses).
    cli.run(&["list", &account], None).expect_ok();
    sim.request("POST", "/__sim/add_session", Some(json!({"ip": IPV4, "ago": 300})));
    sim.request("POST", "/__sim/add_session", Some(json!({"ip": IPV6, "ago": 900})));
    let name = format!("Bob's phone <{EMAIL}> \u{202E}{IN_NAME_IP}\u{202C}");
    sim.request("POST", "/__sim/add_device", Some(json!({"name": name, "model": "iPhone14,8", "platform": "ios"})));
    Seeded { sim, cli, account }
}

fn rows(cli: &Cli, args: &[&str]) -> Vec<Value> {
    cli.run(args, None).expect_ok().json().as_array().unwrap().clone()
}

#[track_caller]
fn assert_hidden(what: &str, text: &str, ids: &[String]) {
    for h in HIDDEN {
        assert!(!text.contains(h), "{what} shows {h:?} in clear:\n{text}");
    }
    for id in ids {
        assert!(!text.contains(&format!("\"{id}\"")) && !text.contains(&format!(" {id} ")), "{what} shows the id {id:?}:\n{text}");
    }
}

#[track_caller]
fn assert_shown(what: &str, text: &str) {
    for h in [IPV4, IPV6, EMAIL, IN_NAME_IP] {
        assert!(text.contains(h), "{what} should show {h:?} (so the masked checks can fail):\n{text}");
    }
}

#[test]
fn a_safe_listing_hides_addresses_e_mails_and_ids_and_keeps_names_clients_and_times() {
    let s = seeded();
    // One listing from the server, then that same saved listing in clear and masked: times that
    // move between two refreshes (Keyward's own session's "just now") cannot differ.
    s.cli.run(&["list", &s.account], None).expect_ok();
    let clear = rows(&s.cli, &["list", &s.account, "--json", "--cached"]);
    let clear_text = serde_json::to_string(&clear).unwrap();
    assert_shown("the listing in clear", &clear_text);
    let ids: Vec<String> = clear.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();

    let safe = rows(&s.cli, &["list", &s.account, "--json", "--cached", "--safe"]);
    assert_hidden("list --json --safe", &serde_json::to_string(&safe).unwrap(), &ids);
    assert_eq!(safe.len(), clear.len());
    for (c, m) in clear.iter().zip(&safe) {
        assert_eq!(m["kind"], c["kind"]);
        assert_eq!(
            m["times"].as_array().map(|t| t.iter().map(|x| &x["absolute"]).collect::<Vec<_>>()),
            c["times"].as_array().map(|t| t.iter().map(|x| &x["absolute"]).collect::<Vec<_>>()),
            "times stay"
        );
        assert_eq!(m["client"], c["client"], "clients stay");
        assert_eq!(m["guide"], c["guide"], "the guide paragraph stays");
        let id = m["id"].as_str().unwrap();
        assert!(id.starts_with("•••") && id.chars().count() == 9, "{id}");
    }
    let by_ip = |prefix: &str| safe.iter().find(|r| r["last_ip"].as_str().is_some_and(|ip| ip.starts_with(prefix))).cloned();
    assert_eq!(by_ip("198.51.100.").unwrap()["last_ip"], "198.51.100.•••");
    assert_eq!(by_ip("2001:db8:").unwrap()["last_ip"], "2001:db8:•••");
    let phone = safe.iter().find(|r| r["name"].as_str().is_some_and(|n| n.contains("Bob's phone"))).expect("the name stays");
    assert!(phone["name"].as_str().unwrap().contains("b•••@•••.example"), "{phone}");
    assert!(phone["summary"].as_str().unwrap().contains("iPhone 14 Plus"), "the client stays: {phone}");

    // The table for pasting, likewise.
    let table = s.cli.run(&["list", &s.account, "--safe"], None).expect_ok().stdout;
    assert_hidden("list --safe", &table, &ids);
    assert!(table.contains("Bob's phone") && table.contains("198.51.100.•••"), "{table}");
}

#[test]
fn the_mode_survives_until_switched_off_and_the_report_honours_it() {
    let s = seeded();
    s.cli.run(&["list", &s.account], None).expect_ok();
    let clear_report = s.cli.run(&["report"], None).expect_ok().stdout;
    assert!(clear_report.contains(IPV4), "the report in clear names the new session's address:\n{clear_report}");

    let on = s.cli.run(&["safe-mode", "on"], None).expect_ok().stdout;
    assert!(on.contains("is on"), "{on}");
    assert!(s.cli.run(&["safe-mode"], None).expect_ok().stdout.contains("is on"));
    for format in ["markdown", "html", "json"] {
        let report = s.cli.run(&["report", "--format", format], None).expect_ok().stdout;
        assert_hidden(&format!("the {format} report in safe mode"), &report, &[]);
        assert!(report.contains("198.51.100.•••"), "{format}: the masked address is there:\n{report}");
        assert!(report.contains("screen-share-safe") || report.contains("\"safe\": true"), "{format}: the report says it is masked");
    }
    let path = s.cli.config_dir().join("report.html");
    s.cli.run(&["report", "--format", "html", "-o", path.to_str().unwrap()], None).expect_ok();
    assert_hidden("the written report", &std::fs::read_to_string(&path).unwrap(), &[]);
    // Every command masks without --safe while the mode is on.
    assert_hidden("list --json with the mode on", &s.cli.run(&["list", &s.account, "--json"], None).expect_ok().stdout, &[]);
    let checkup = s.cli.run(&["checkup", "--cached"], None).expect_ok().stdout;
    assert_hidden("checkup with the mode on", &checkup, &[]);
    assert!(checkup.contains("198.51.100.•••"), "the checkup names the new session, masked:\n{checkup}");
    let guide = s.cli.run(&["list", &s.account, "--json"], None).expect_ok().json()[0]["guide"].as_str().unwrap().to_string();
    assert!(guide.len() > 40 && checkup.contains(&guide), "the guide paragraph follows the findings:\n{checkup}");

    s.cli.run(&["safe-mode", "off"], None).expect_ok();
    assert_shown("list --json after the mode is off", &s.cli.run(&["list", &s.account, "--json"], None).expect_ok().stdout);
}

#[test]
fn a_masked_id_still_revokes_exactly_its_credential() {
    let s = seeded();
    let safe = rows(&s.cli, &["list", &s.account, "--json", "--safe"]);
    let target = safe.iter().find(|r| r["last_ip"] == "198.51.100.•••").expect("the IPv4 session").clone();
    let masked = target["id"].as_str().unwrap();
    let sessions = |sim: &common::sim::Sim| -> Vec<String> {
        sim.state()["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["userid"] == 3)
            .map(|x| x["lastip"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(sessions(&s.sim).contains(&IPV4.to_string()));
    let out = s.cli.run(&["--safe", "revoke", &s.account, masked, "--yes"], None).expect_ok().stdout;
    assert!(out.contains(masked), "the result names the id as shown: {out}");
    let left = sessions(&s.sim);
    assert!(!left.contains(&IPV4.to_string()), "the IPv4 session is gone: {left:?}");
    assert!(left.iter().any(|ip| ip.ends_with("8a2e:370:7334")), "and only it: {left:?}");
    let err = s.cli.run(&["revoke", &s.account, "•••zzzzzz", "--yes"], None).expect_err();
    assert!(err.contains("•••zzzzzz"), "a masked id that matches nothing is unknown: {err}");
}

#[test]
fn error_lines_are_masked_too() {
    let s = seeded();
    let port = s.sim.port;
    drop(s.sim);
    let clear = s.cli.run(&["list", &s.account], None);
    assert!(!clear.ok() && clear.stderr.contains("127.0.0.1"), "{}", clear.stderr);
    let safe = s.cli.run(&["list", &s.account, "--safe"], None);
    assert!(!safe.ok());
    assert!(!safe.stderr.contains("127.0.0.1"), "the server's address is masked in the error: {}", safe.stderr);
    assert!(safe.stderr.contains(&format!("127.0.0.•••:{port}")), "{}", safe.stderr);
}
