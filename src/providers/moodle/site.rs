//! What a Moodle site's release and settings, as site info tells them, mean for what Keyward may
//! safely do there: which pages it may open without changing anything, and whether a web login
//! would sign the user out of another browser.
//!
//! Two facts from real sites (`shared/reference/moodle.md`): before 4.3 the security keys page
//! (`/user/managetoken.php`) shows every token in clear and, merely opened, makes a token for every
//! unrestricted service the user has none for; and with `limitconcurrentlogins` set, every web
//! login silently ends the user's oldest browser sessions beyond the limit. Deciding is here;
//! saying it to the user is the listing's job (gaps) and the sign-in's (facts).
//!
//! Known limit, from Moodle's source rather than a real site: `user/managetoken.php` calls
//! `webservice::generate_user_ws_tokens()` on every plain visit in 4.3 to 5.x too, for users who
//! may create tokens. There it shows no token values, and on a usual site the only unrestricted
//! service is the mobile one, which Keyward's own token already covers, so nothing is made; a site
//! with another unrestricted service would get a token for it at the first listing. Keyward cannot
//! tell such a site from site info. Opening the page also makes the RSS key of a user who has none
//! (`rss_get_token()`), as any Moodle page with an RSS link does.

use super::api::SiteInfo;

/// `$CFG->version` of Moodle 4.3.0, the first release whose keys page neither shows token values
/// nor lists tokens without names.
const MOODLE_4_3: u64 = 2023100900;

pub(super) struct Site {
    /// "4.2.3 (Build: 20231009)", as the site says it.
    pub release: String,
    version: Option<u64>,
    /// How many browser sessions a user may have at once; 0 = no limit.
    pub login_limit: i64,
    /// The user's browser sessions now, when the site says (only with a limit).
    sessions: Option<i64>,
}

impl Site {
    pub fn of(info: &SiteInfo) -> Self {
        let release = info.release.clone().unwrap_or_default();
        let version = info.version.as_deref().and_then(version_number).or_else(|| version_of_release(&release));
        Site { release, version, login_limit: info.limitconcurrentlogins.unwrap_or(0).max(0), sessions: info.usersessionscount }
    }

    /// Opening the security keys page would show token values and can create tokens (before 4.3,
    /// or a release Keyward cannot read, where it assumes the worst).
    pub fn keys_page_has_side_effects(&self) -> bool {
        self.version.is_none_or(|v| v < MOODLE_4_3)
    }

    /// A web login now would end one of the user's browser sessions: the site limits them and the
    /// user already has as many as it allows (or does not say how many).
    pub fn login_ends_a_session(&self) -> bool {
        self.login_limit > 0 && self.sessions.is_none_or(|n| n >= self.login_limit)
    }
}

/// "2023100900", "2024011900.02" → 2023100900.
fn version_number(v: &str) -> Option<u64> {
    let digits = v.split('.').next()?.trim();
    (digits.len() == 10).then(|| digits.parse().ok()).flatten()
}

/// "4.2.3 (Build: 20231009)" → on which side of 4.3 it is, as a version number, when the
/// `version` field is missing.
fn version_of_release(release: &str) -> Option<u64> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let (major, minor): (u64, u64) = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    Some(if (major, minor) >= (4, 3) { MOODLE_4_3 } else { MOODLE_4_3 - 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(release: &str, version: Option<&str>, limit: Option<i64>, count: Option<i64>) -> Site {
        let info = serde_json::json!({"username": "alice", "release": release, "version": version,
                                      "limitconcurrentlogins": limit, "usersessionscount": count});
        Site::of(&serde_json::from_value(info).unwrap())
    }

    #[test]
    fn keys_page_is_left_alone_before_4_3_and_when_the_release_is_unknown() {
        assert!(site("4.1.6 (Build: 20231009)", Some("2022112806"), None, None).keys_page_has_side_effects());
        assert!(site("4.2.3 (Build: 20231009)", Some("2023042403"), None, None).keys_page_has_side_effects());
        assert!(!site("4.3 (Build: 20231009)", Some("2023100900"), None, None).keys_page_has_side_effects());
        assert!(!site("4.4dev", Some("2024011900.02"), None, None).keys_page_has_side_effects());
        assert!(!site("5.2dev (Build: 20251205)", Some("2025120500.00"), None, None).keys_page_has_side_effects());
        assert!(site("4.2", None, None, None).keys_page_has_side_effects(), "release text alone");
        assert!(!site("4.5.1", None, None, None).keys_page_has_side_effects());
        assert!(site("", None, None, None).keys_page_has_side_effects(), "unknown: assume the worst");
    }

    #[test]
    fn a_login_ends_a_session_only_when_the_user_is_at_the_limit() {
        assert!(!site("4.3", None, Some(0), None).login_ends_a_session());
        assert!(!site("4.3", None, None, None).login_ends_a_session());
        assert!(site("4.3", None, Some(1), Some(1)).login_ends_a_session());
        assert!(!site("4.3", None, Some(2), Some(1)).login_ends_a_session());
        assert!(site("4.3", None, Some(2), Some(3)).login_ends_a_session());
        assert!(site("4.3", None, Some(2), None).login_ends_a_session(), "no count: assume it would");
    }
}
