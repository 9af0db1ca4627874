#!/usr/bin/env python3
"""A simulated Phorge for Keyward's tests (no Phorge installs from the registries here).

It answers like the real Phorge 2026.27 captured in tests/data/phorge/ (CAPTURE.md lists every
capture): the same paths, status codes, redirects, cookies, workflow JSON and Conduit JSON, and the
same HTML -- the captured pages ARE the templates. A settings panel is its captured page with the
panel box generated in the exact markup of the captured rows; a dialog is its captured page with
the object's id and name put in; chrome differences between captures (the user, the OAuth menu
entry that exists only with prototypes on, the body's platform class taken from the User-Agent,
the high-security flag) are applied with the rules the captures show (Javelin's `data-meta` and
`UQ0_` numbers follow render order, so an element added or removed renumbers what follows).
tests/phorge.rs replays every capture against this simulator and demands the same bytes.

State (users, sessions, tokens, keys, logs) lives in memory. Passwords: alice `alice-pass-1`
(no MFA), bob `bob-pass-1` (TOTP; GET /__sim/code?user=bob gives the current code).

NOT captured from a real server, and written from Phorge's behaviour as documented in
shared/reference/phorge-hypothesis.md (markup in Phorge's usual form controls, may differ):
  - the Date and Time settings panel (/settings/user/<u>/page/datetime/), read for the user's zone;
  - the MFA step's wrong-code page at login (the captured high-security wrong-code markup is used)
    and the TOTP "Wait N seconds" answer (login and high security alike);
  - a partial session of an MFA user visiting a page (302 to /auth/finish/);
  - the home page `/` (a minimal page: the captures never followed a redirect there);
  - revoked temporary tokens ("Expired", a disabled Revoke) and the 64-character name limit's error;
  - the invalid-CSRF message of a cookie Conduit call (the captured one says "no CSRF token").

Variants (command-line flags, or POST /__sim/config with a JSON object of the same names):
  prototypes=false      phabricator.show-prototypes off: no OAuth panel (404) and no menu entry
  zone=<IANA>           alice's (and bob's) time zone setting (default UTC, as captured)
  time_format=H:i       24-hour times (default "g:i A")
  cooldown=<secs>       how long a TOTP factor refuses new challenges after a response or after a
                        challenge to another session (default 90)
  unknown_layout        the panels' tables get headings the provider does not know
  columns_reordered     the panels' columns come in another order (a provider reading positions
                        instead of headings reads the wrong values)
  csrf_broken           every form carries a CSRF value that the server then refuses (HTTP 500)
  ignore_actions        POSTs of actions answer like success (302) but change nothing

Prints "PORT <n>" on stdout once listening. Test helpers, not Phorge:
  GET  /__sim/state                 the state as JSON (for checks "on the server")
  POST /__sim/config                change variants
  POST /__sim/scene {"name"}        load the state of one capture and freeze the clock there;
                                    answers {"phsid": <cookie of the capture's session>}
  POST /__sim/clock {"advance"|"at"|"frozen"}
  GET  /__sim/code?user=bob         the TOTP code valid now
  POST /__sim/login {"user","ua","ip","kind"}   another client signs in (a full web session, or a
                                    `conduit` one); answers its session's id, digest and cookie
  POST /__sim/add_token {"user","name","type"}, /__sim/add_sshkey {"user","name"},
       /__sim/add_temptoken {"user"}, /__sim/add_oauth {"user","client"}, /__sim/conduit_call
  POST /__sim/end_session {"id"}    ends a session as Phorge would (expiry, another logout)
"""
import base64
import hashlib
import hmac
import html
import json
import os
import random
import re
import string
import struct
import sys
import threading
import time
import zoneinfo
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlparse

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "phorge")
CAPTURED_HOST = "127.0.0.1:18090"
CSRF_PLACEHOLDER = "B@fakesalt0123456789abcdef"
DAY = 86400
T0 = 1795352400  # 2026-11-22 13:00:00 UTC, the captures' hour
FIVE_YEARS = 157680000


def read(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return f.read()


def rand(n, alphabet=string.ascii_lowercase + string.digits):
    return "".join(random.choice(alphabet) for _ in range(n))


def esc(s):
    return html.escape(str(s), quote=True).replace("&#x27;", "&#039;")


def php_json(value):
    """json_encode() as Phorge calls it: escaped slashes, \\u003c for tags, ASCII only."""
    s = json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    return s.replace("/", "\\/").replace("<", "\\u003c").replace(">", "\\u003e")


# ---- dates, the way Phorge prints them ----

def zone_of(name):
    try:
        return zoneinfo.ZoneInfo(name)
    except Exception:
        return timezone.utc


def date_format(epoch, now):
    """phutil_date_format(): 'D, M j' within 30 days of now (strictly), else 'M j Y'."""
    shift = 30 * DAY
    return "D, M j" if now - shift < epoch < now + shift else "M j Y"


def php_date(fmt, epoch, zone):
    d = datetime.fromtimestamp(epoch, zone)
    out = []
    for ch in fmt:
        out.append({
            "D": d.strftime("%a"), "M": d.strftime("%b"), "j": str(d.day), "Y": str(d.year),
            "g": str(int(d.strftime("%I"))), "i": d.strftime("%M"), "A": d.strftime("%p"),
            "H": d.strftime("%H"),
        }.get(ch, ch))
    return "".join(out)


def relative(seconds):
    """phutil_format_relative_time(): '15 m', '30 s'."""
    n, label = float(seconds), "s"
    for scale, nxt in ((60, "m"), (60, "h"), (24, "d"), (7, "w")):
        if n < scale:
            break
        n, label = n / scale, nxt
    return f"{int(round(n))} {label}"


# ---- TOTP ----

def totp(secret_b32, step):
    key = base64.b32decode(secret_b32)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


# ---- templates ----

FOOTER = '<div class="phui-two-column-content phui-two-column-footer">'


def matching_div_end(page, start):
    """The index just after the </div> that closes the <div> opening at `start`."""
    depth, i = 0, start
    tag = re.compile(r"<(/?)div\b[^>]*>")
    for m in tag.finditer(page, start):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return m.end()
    raise ValueError("unbalanced divs")


def split_panel(page):
    """(before, the footer's inner HTML, after) of a captured settings panel."""
    start = page.index(FOOTER)
    end = matching_div_end(page, start)
    inner_start = start + len(FOOTER)
    return page[:inner_start], page[inner_start:end - len("</div>")], page[end - len("</div>"):]


META_RE = re.compile(r'(data-meta=(?:"|\\&quot;)0_)(\d+)')
UQ_RE = re.compile(r"UQ0_(\d+)")
MERGE_RE = re.compile(r'(data-javelin-init-kind="merge" data-javelin-init-data=")([^"]*)(")')


def shift_numbers(text, regex, start, delta, group=2):
    def fix(m):
        n = int(m.group(group))
        if n < start:
            return m.group(0)
        if group == 2:
            return m.group(1) + str(n + delta)
        return f"UQ0_{n + delta}"
    return regex.sub(fix, text)


def json_elements(raw):
    """Top-level elements of a JSON array's text (no parsing: the bytes stay as they are)."""
    assert raw[0] == "[" and raw[-1] == "]"
    out, depth, start, in_str, i = [], 0, 1, False, 1
    while i < len(raw) - 1:
        c = raw[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(raw[start:i])
            start = i + 1
        i += 1
    if raw[start:-1]:
        out.append(raw[start:-1])
    return out


def edit_merge_data(page, fn):
    """Applies fn(list of element texts) to the page's Javelin merge data array."""
    def fix(m):
        raw = html.unescape(m.group(2))
        prefix = '{"block":0,"data":'
        assert raw.startswith(prefix) and raw.endswith("}")
        elems = fn(json_elements(raw[len(prefix):-1]))
        return m.group(1) + esc(prefix + "[" + ",".join(elems) + "]}") + m.group(3)
    return MERGE_RE.sub(fix, page, count=1)


def renumber_content_metas(page, before_count, after_count):
    """The chrome's metas after a content region whose meta count changed (content renders first)."""
    delta = after_count - before_count
    if delta == 0:
        return page
    page = shift_numbers(page, META_RE, before_count, delta)
    if delta > 0:
        return edit_merge_data(page, lambda e: e[:before_count] + ["[]"] * delta + e[before_count:])
    return edit_merge_data(page, lambda e: e[:before_count + delta] + e[before_count:])


OAUTH_NAV = re.compile(r'<li class="phui-list-item-view phui-list-item-type-link phui-list-item-has-icon ">'
                       r'<a href="/settings/user/[^/]+/page/oauthorizations/" class="phui-list-item-href" data-sigil="">'
                       r'<span class="[^"]*" data-meta="0_(\d+)" aria-hidden="true"></span>'
                       r'<span class="phui-list-item-name">OAuth Authorizations</span></a></li>')
OAUTH_MENU = re.compile(r'\\u003cli id=\\&quot;UQ0_(\d+)\\&quot; class=\\&quot;[^&]*\\&quot; style=\\&quot;\\&quot;\\u003e'
                        r'\\u003ca href=\\&quot;\\/settings\\/user\\/[^\\]+\\/page\\/oauthorizations\\/\\&quot;'
                        r'(?:(?!\\u003c\\/li\\u003e).)*\\u003c\\/li\\u003e')


def without_oauth_nav(page):
    """A settings page as Phorge renders it with prototypes off: no OAuth menu entry (one meta and
    two UQ ids fewer, everything rendered later renumbered)."""
    m = OAUTH_NAV.search(page)
    if not m:
        return page
    meta = int(m.group(1))
    page = page[:m.start()] + page[m.end():]
    page = edit_merge_data(page, lambda e: e[:meta] + e[meta + 1:])
    page = shift_numbers(page, META_RE, meta + 1, -1)
    # The mobile menu's entry lives inside the merge data, escaped twice.
    enc = MERGE_RE.search(page).group(2)
    mm = OAUTH_MENU.search(enc)
    uq = int(mm.group(1))
    page = page.replace(enc, enc[:mm.start()] + enc[mm.end():], 1)
    return shift_numbers(page, UQ_RE, uq + 1, -2, group=1)


def platform_class(ua):
    """Phorge's guess from the User-Agent for the body class."""
    ua = ua or ""
    if "Windows" in ua:
        return " platform-windows"
    if "Macintosh" in ua:
        return " platform-mac"
    if "X11" in ua:
        return " platform-linux"
    return ""


def with_platform(page, ua):
    cls = platform_class(ua)
    page = re.sub(r'<body class="device-desktop(?: platform-\w+)?', f'<body class="device-desktop{cls}', page, count=1)
    return re.sub(r'(bodyClasses&quot;:&quot;device-desktop)(?: platform-\w+)?', lambda m: m.group(1) + cls, page)


def with_hisec(page, on):
    flag = "true" if on else "false"
    page = page.replace("high-security-warning&quot;:[{&quot;show&quot;:false", f"high-security-warning&quot;:[{{&quot;show&quot;:{flag}")
    page = page.replace("high-security-warning&quot;:[{&quot;show&quot;:true", f"high-security-warning&quot;:[{{&quot;show&quot;:{flag}")
    page = page.replace("hisecWarningConfig&quot;:{&quot;show&quot;:false", f"hisecWarningConfig&quot;:{{&quot;show&quot;:{flag}")
    return page.replace("hisecWarningConfig&quot;:{&quot;show&quot;:true", f"hisecWarningConfig&quot;:{{&quot;show&quot;:{flag}")


USERS = {
    "alice": {"id": 2, "phid": "PHID-USER-knnczwuiiscfxcdrvuzl", "real": "Alice Example", "password": "alice-pass-1",
              "email": "alice@example.org", "image": "2ip3b43jpptoos4ul5p4/PHID-FILE-mnds42iagwhn7lo56pse/5880b0-alphanumeric_aleo-white_A.png-255%2C255%2C255%2C0.7.png",
              "totp": None, "certificate": "alicecertificate" + "a" * 239},
    "bob": {"id": 3, "phid": "PHID-USER-ahhbdrj7a2ksreny5lsd", "real": "Bob Example", "password": "bob-pass-1",
            "email": "bob@example.org", "image": "z3ps57do46o72g5jcjyn/PHID-FILE-udiaom7lznwbzxrf4hnr/ac7e8b-alphanumeric_lato-white_B.png-0%2C0%2C0%2C0.png",
            "totp": "JBSWY3DPEHPK3PXP", "certificate": "bobcertificate" + "b" * 241},
}


def as_user(page, captured, user):
    """A page captured for one user, as Phorge renders it for another."""
    if captured == user:
        return page
    a, b = USERS[captured], USERS[user]
    pairs = [(a["image"], b["image"]), (a["phid"], b["phid"]), (a["real"], b["real"]),
             (f"/people/manage/{a['id']}/", f"/people/manage/{b['id']}/")]
    for x, y in pairs:
        page = page.replace(x, y).replace(x.replace("/", "\\/"), y.replace("/", "\\/"))
    page = page.replace(f"\\u003e{captured}\\u003c", f"\\u003e{user}\\u003c")
    return re.sub(rf"\b{captured}\b", user, page)


# Each page kind: (fixture, the user it was captured for).
PANEL_TEMPLATES = {
    "apitokens": "apitokens-panel-cli-token-used.html",
    "sessions": "sessions-panel.html",
    "ssh": "ssh-panel-after-revoke.html",
    "oauthorizations": "oauthorizations-panel.html",
    "tokens": "tokens-panel.html",
    "activity": "activity-panel.html",
}
CACHE = {}


def fixture(name):
    if name not in CACHE:
        CACHE[name] = read(name)
    return CACHE[name]


PANEL_TITLES = {"activity": "Activity Logs", "datetime": "Date and Time"}


def retitled_panel(page, captured, key):
    """A captured panel's page as another panel of the same menu (not captured: see the module doc)."""
    old, new = PANEL_TITLES[captured], PANEL_TITLES[key]
    page = page.replace(f"<title>{old}</title>", f"<title>{new}</title>").replace(f"&quot;title&quot;:&quot;{old}&quot;", f"&quot;title&quot;:&quot;{new}&quot;")
    page = page.replace(f'<span class="phui-crumb-name"> {old}</span>', f'<span class="phui-crumb-name"> {new}</span>')
    page = page.replace(' phui-list-item-selected"><a href="/settings/user/alice/page/activity/"', ' "><a href="/settings/user/alice/page/activity/"')
    return page.replace(f'phui-list-item-has-icon "><a href="/settings/user/alice/page/{key}/"', f'phui-list-item-has-icon phui-list-item-selected"><a href="/settings/user/alice/page/{key}/"')


def meta_count(fragment):
    return len(set(META_RE.findall(fragment)))


# ---- state ----

class Sim:
    def __init__(self, config):
        self.lock = threading.RLock()
        self.config = {"prototypes": True, "zone": "UTC", "time_format": "g:i A", "cooldown": 90}
        self.config.update(config)
        # The clock runs from now (fixture_clock: from 13:10 on the captures' day), and the captures'
        # objects are placed at the same distance before it as they were before the captures.
        self.base = T0 + 10 * 60 if self.config.get("fixture_clock") else int(time.time())
        self.started = time.time()
        self.offset = 0
        self.frozen = None
        self.reset()
        self.capture_world(self.base - 450, t0=self.base - 600)
        self.frozen = None

    # -- clock --
    def now(self):
        if self.frozen is not None:
            return self.frozen
        return int(self.base + (time.time() - self.started) + self.offset)

    # -- objects --
    def reset(self):
        self.sessions = {}    # key -> session
        self.anon = {}        # anonymous phsid keys
        self.tokens = {}      # id -> token
        self.sshkeys = {}
        self.temptokens = {}
        self.oauth = {}
        self.activity = []
        self.conduit_log = []
        self.challenges = []  # {user, session, at, answered}
        self.used_steps = set()
        self.next_ids = {"session": 2, "token": 1, "sshkey": 1, "temptoken": 1, "oauth": 1, "activity": 1}
        self.next_values = []  # secrets to hand out next (scenes: the captures' placeholders)
        self.logins = 0
        self.hisec_prompts = 0

    def new_id(self, kind):
        i = self.next_ids[kind]
        self.next_ids[kind] = i + 1
        return i

    def add_session(self, user, created, kind="web", partial=False, digest=None, key=None, ua="", ip="127.0.0.1", sid=None):
        key = key or rand(40)
        sid = sid or self.new_id("session")
        self.next_ids["session"] = max(self.next_ids["session"], sid + 1)
        ttl = 30 * 60 if partial else (DAY if kind == "conduit" else 30 * DAY)
        s = {"id": sid, "key": key, "digest": digest or hashlib.sha1(key.encode()).hexdigest(), "user": user,
             "type": kind, "partial": partial, "created": created, "expires": created + ttl, "hisec": 0,
             "ua": ua, "ip": ip, "mfa_done": not USERS[user]["totp"]}
        self.sessions[key] = s
        return s

    def add_token(self, user, created, name=None, kind="api", value=None, tid=None, expires=None):
        tid = tid or self.new_id("token")
        self.next_ids["token"] = max(self.next_ids["token"], tid + 1)
        value = value or (self.next_values.pop(0) if self.next_values and self.next_values[0].startswith(kind) else f"{kind}-{rand(28)}")
        label = {"api": "Standard API Token", "cli": "Command Line API Token", "clr": "Cluster API Token"}[kind]
        if expires is None and kind == "cli":
            expires = created + 3600
        if kind == "clr":
            expires = created + 1800
        t = {"id": tid, "user": user, "token": value, "name": name or label, "type": kind, "type_name": label,
             "created": created, "expires": expires, "used": False}
        self.tokens[tid] = t
        return t

    def add_sshkey(self, user, created, name, key, kid=None, xact=None):
        kid = kid or self.new_id("sshkey")
        self.next_ids["sshkey"] = max(self.next_ids["sshkey"], kid + 1)
        parts = key.split()
        k = {"id": kid, "user": user, "name": name, "key": key, "type": parts[0], "comment": parts[2] if len(parts) > 2 else "",
             "created": created, "revoked": False, "trusted": False, "phid": "PHID-AKEY-" + rand(20),
             "xact": xact or "PHID-XACT-AKEY-" + rand(15)}
        self.sshkeys[kid] = k
        return k

    def add_temptoken(self, user, created, kind="One-Time Login Token", ttl=DAY, revocable=True, tid=None):
        tid = tid or self.new_id("temptoken")
        self.next_ids["temptoken"] = max(self.next_ids["temptoken"], tid + 1)
        t = {"id": tid, "user": user, "type": kind, "expires": created + ttl, "revocable": revocable}
        self.temptokens[tid] = t
        return t

    def add_oauth(self, user, created, client="Demo Client App", client_id=1, aid=None, scope=""):
        aid = aid or self.new_id("oauth")
        self.next_ids["oauth"] = max(self.next_ids["oauth"], aid + 1)
        a = {"id": aid, "user": user, "client": client, "client_id": client_id, "scope": scope, "created": created, "updated": created,
             "access_tokens": ["oauth-" + rand(28)]}
        self.oauth[aid] = a
        return a

    def log(self, action, user, digest, at, actor=True, ip="127.0.0.1", lid=None):
        lid = lid or self.new_id("activity")
        self.next_ids["activity"] = max(self.next_ids["activity"], lid + 1)
        self.activity.append({"id": lid, "action": action, "actor": user if actor else None, "user": user, "ip": ip,
                              "digest": digest[:6] if digest else "", "at": at})

    def conduit_called(self, method, caller, at, duration=None, error=""):
        self.conduit_log.append({"method": method, "caller": caller, "error": error, "at": at,
                                 "duration": duration if duration is not None else random.randint(3000, 15000)})

    def live_sessions(self, user):
        now = self.now()
        return [s for s in self.sessions.values() if s["user"] == user and s["expires"] > now]

    def session_by_key(self, key):
        s = self.sessions.get(key)
        if s and s["expires"] > self.now():
            return s
        return None

    def live_tokens(self, user):
        now = self.now()
        return [t for t in self.tokens.values() if t["user"] == user and (t["expires"] is None or t["expires"] > now)]

    def token_by_value(self, value):
        return next((t for t in self.tokens.values() if t["token"] == value), None)

    # -- the world of the captures --
    def capture_world(self, at, t0=T0):
        """alice and bob as in the captures (see CAPTURE.md: "Objects referred to below"), at `at`,
        with the captures' 13:00 at `t0`."""
        self.reset()
        self.frozen = at
        shift = t0 - T0
        x11 = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        self.add_session("alice", t0 + 70, partial=True, digest="4ab5e1" + "0" * 34, key="k" * 40, sid=2)
        self.add_session("alice", t0 + 104, digest="2b816f" + "0" * 34, key="fakesessionkeyaaaaaaaaaaaaaaaaaaaaaaaaaa", ua=x11, sid=3)
        self.add_session("alice", t0 + 112, digest="90c30b" + "0" * 34, ua="curl/7.88.1", sid=4)
        self.add_token("alice", t0 + 118, name="laptop-cli", value="api-fka1xxxxxxxxxxxxxxxxxxxxxxxx", tid=1)
        self.add_token("alice", t0 + 119, value="api-fkb2xxxxxxxxxxxxxxxxxxxxxxxx", tid=2)
        self.add_sshkey("alice", t0 + 137, "alice-laptop",
                        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIETMidSIfqWJEF8qCxga+jQBNSHUjAoWZGYM56fVfhVy alice@laptop",
                        kid=1, xact="PHID-XACT-AKEY-fniku3cv4fd3dcw")["phid"] = "PHID-AKEY-6u5s7y4aakjcx6mxhrq2"
        self.add_sshkey("alice", t0 + 141, "alice-desktop", read_desktop_key(), kid=2)["phid"] = "PHID-AKEY-3jnxgdvkks6rros2iti6"
        self.add_temptoken("alice", t0 + 150, tid=1)
        self.add_oauth("alice", t0 + 190, aid=1)
        # bob: TOTP enrolled; his sessions appear in the high-security captures.
        for row in ACTIVITY:
            self.log(row[1], "alice", row[5], row[6] + shift, actor=row[2], lid=row[0])
        for method, duration, at in CONDUIT_LOG:
            self.conduit_called(method, "alice", at + shift, duration)
        self.next_ids.update({"session": 6, "token": 3, "sshkey": 3, "temptoken": 2, "oauth": 2, "activity": 26})

    def state(self):
        def clean(d):
            return {k: v for k, v in d.items()}
        return {"now": self.now(), "sessions": [clean(s) for s in self.sessions.values()],
                "tokens": list(self.tokens.values()), "sshkeys": list(self.sshkeys.values()),
                "temptokens": list(self.temptokens.values()), "oauth": list(self.oauth.values()),
                "activity": self.activity, "conduit_log": self.conduit_log, "logins": self.logins,
                "hisec_prompts": self.hisec_prompts, "config": self.config}


def read_desktop_key():
    keys = json.loads(read("conduit-auth.querypublickeys.json"))["result"]["data"]
    return next(k["key"] for k in keys if k["name"] == "alice-desktop")


# (id, action, has actor, user, ip, session digest, epoch): the captured activity panel.
ACTIVITY = [
    (3, "Login: Partial Login", False, "alice", "127.0.0.1", "4ab5e1", T0 + 70),
    (5, "Login: Partial Login", False, "alice", "127.0.0.1", "2b816f", T0 + 104),
    (6, "Login: Upgrade to Full", True, "alice", "127.0.0.1", "2b816f", T0 + 104),
    (7, "Login: Partial Login", False, "alice", "127.0.0.1", "90c30b", T0 + 112),
    (8, "Login: Upgrade to Full", True, "alice", "127.0.0.1", "90c30b", T0 + 112),
    (9, "Login", False, "alice", "127.0.0.1", "aa3c24", T0 + 250),
    (18, "Login: Partial Login", False, "alice", "127.0.0.1", "21dd82", T0 + 362),
    (19, "Login: Upgrade to Full", True, "alice", "127.0.0.1", "21dd82", T0 + 362),
    (20, "Logout", True, "alice", "127.0.0.1", "21dd82", T0 + 384),
    (21, "Login: Partial Login", False, "alice", "127.0.0.1", "d2bcca", T0 + 390),
    (22, "Login: Upgrade to Full", True, "alice", "127.0.0.1", "d2bcca", T0 + 390),
    (23, "Login", False, "alice", "127.0.0.1", "da8b26", T0 + 395),
    (24, "Login: Partial Login", False, "alice", "127.0.0.1", "304b02", T0 + 400),
    (25, "Login: Upgrade to Full", True, "alice", "127.0.0.1", "304b02", T0 + 400),
]

# (method, duration in microseconds, epoch): the captured Conduit call log, oldest first.
CONDUIT_LOG = [
    ("user.whoami", 61325, T0 + 125), ("user.whoami", 6093, T0 + 126), ("user.whoami", 3961, T0 + 127),
    ("auth.querypublickeys", 5545, T0 + 145), ("auth.querypublickeys", 4319, T0 + 146), ("conduit.query", 12651, T0 + 147),
    ("user.whoami", 3149, T0 + 148), ("auth.querypublickeys", 6103, T0 + 200), ("user.whoami", 3968, T0 + 245),
    ("user.whoami", 6797, T0 + 255), ("auth.logout", 11157, T0 + 370), ("user.whoami", 4093, T0 + 372),
]


# ---- the markup of the captured tables ----

def handle(user):
    # The "•" marks a user whose e-mail address is unverified (alice and bob both were).
    return (f'<a href="/p/{user}/" class="phui-handle handle-availability-no-email phui-link-person">'
            f'<span class="perfect-circle">•</span> {user}</a>')


def cell(cls, content):
    return f'<td class="{cls}">{content}</td>' if cls else f"<td>{content}</td>"


def aphront_table(config, headers, rows, empty):
    """AphrontTableView: a heading row, then rows alternating "" / "alt"; highlighted rows get
    "highlighted" ("alt alt-highlighted" on an alternate row). headers: [(class, text)];
    rows: [(highlighted, [(class, html)])]."""
    order = list(range(len(headers)))
    if config.get("columns_reordered"):
        # Every column keeps its heading, in the reverse order (an action column stays last).
        n = len(headers) - (1 if headers[-1][1] == "" else 0)
        order = list(reversed(range(n))) + list(range(n, len(headers)))
    if config.get("unknown_layout"):
        headers = [(c, {"": ""}.get(t, t.upper() + "?")) for c, t in headers]
    ths = "".join(f'<th class="{headers[i][0]}">{headers[i][1]}</th>' if headers[i][0] else f"<th>{headers[i][1]}</th>" for i in order)
    out = [f"<tr>{ths}</tr>"]
    if not rows:
        out.append(f'<tr class="no-data"><td colspan="{len(headers)}">{empty}</td></tr>')
    for n, (highlighted, cells) in enumerate(rows):
        alt = n % 2 == 1
        cls = ("alt alt-highlighted" if alt else "highlighted") if highlighted else ("alt" if alt else "")
        tds = "".join(cell(*cells[i]) for i in order)
        out.append(f'<tr class="{cls}">{tds}</tr>' if cls else f"<tr>{tds}</tr>")
    return '<div class="aphront-table-wrap"><table class="aphront-table-view">' + "".join(out) + "</table></div>"


def header_button(href, icon, text, meta, red=True, dropdown=False):
    if dropdown:
        return (f'<a class="button button-grey dropdown has-icon has-text phui-button-default msl phui-header-action-link" href="#" role="button" '
                f'data-sigil="phui-dropdown-menu" data-meta="0_{meta}"><span class="visual-only phui-icon-view phui-font-fa {icon}" '
                f'data-meta="0_{meta + 1}" aria-hidden="true"></span><div class="phui-button-text">{text}</div><span class="caret"></span></a>')
    color = "button-red" if red else "button-grey"
    return (f'<a class="button {color} has-icon has-text phui-button-default msl phui-header-action-link" href="{href}" role="button" '
            f'data-sigil="workflow"><span class="visual-only phui-icon-view phui-font-fa {icon}" data-meta="0_{meta}" aria-hidden="true">'
            f'</span><div class="phui-button-text">{text}</div></a>')


def object_box(title, buttons, table):
    actions = f'<div class="phui-header-action-links">{"".join(buttons)}</div>' if buttons else ""
    return ('<div class="phui-box phui-box-border phui-object-box mlt mll mlr phui-box-white-config "><div class="phui-header-shell ">'
            '<h1 class="phui-header-view"><div class="phui-header-row"><div class="phui-header-col2">'
            f'<span class="phui-header-header">{title}</span></div><div class="phui-header-col3">{actions}</div></div></h1></div>'
            f"{table}</div>")


# ---- the server ----

class Done(Exception):
    """A response was sent."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sim: Sim = None

    def log_message(self, *args):
        pass

    # -- plumbing --

    def host(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def www(self):
        return f"http://{self.host()}"

    def send(self, status, body, ctype="text/html; charset=UTF-8", location=None, cookies=()):
        """One answer, with the headers in the order a PHP built-in server sends them."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response_only(status)
        self.send_header("Host", self.host())
        self.send_header("Date", formatdate(self.sim.now()))
        self.send_header("Connection", "close")
        self.send_header("X-Powered-By", "PHP/8.2.36")
        for c in list(self.cookies_out) + list(cookies):
            self.send_header("Set-Cookie", c)
        www = self.www()
        self.send_header("X-Frame-Options", "Deny")
        self.send_header("Content-Security-Policy", f"default-src 'self' {www}; img-src 'self' {www} data:; style-src 'self' {www} 'unsafe-inline'; "
                         f"script-src 'self' {www}; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; object-src 'none'; "
                         "form-action 'self'; base-uri 'none'")
        self.send_header("Referrer-Policy", "no-referrer")
        if location:
            self.send_header("Location", location)
        elif ctype == "application/json":
            self.send_header("X-Conduit-Capabilities", "gzip")
            self.send_header("Content-Type", ctype)
        else:
            self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Expires", "Sat, 01 Jan 2000 00:00:00 GMT")
        self.send_header("X-Content-Type-Options", "nosniff")
        if location:
            self.send_header("Content-type", "text/html; charset=UTF-8")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True
        raise Done()

    def redirect(self, location, cookies=()):
        if self.wflow:
            return self.send(200, "for (;;);" + php_json({"error": None, "payload": {"redirect": self.www() + location, "close": None}}),
                             "text/plain; charset=UTF-8", cookies=cookies)
        self.send(302, "", location=self.www() + location, cookies=cookies)

    def cookie(self, name, value, persistent=True):
        if value is None:
            return f"{name}=deleted; expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; path=/; domain=127.0.0.1; HttpOnly"
        if persistent:
            return (f"{name}={value}; expires={formatdate(self.sim.now() + FIVE_YEARS)}; Max-Age={FIVE_YEARS}; "
                    "path=/; domain=127.0.0.1; HttpOnly")
        return f"{name}={value}; path=/; domain=127.0.0.1; HttpOnly"

    def parse(self):
        url = urlparse(self.path)
        self.route_path = url.path
        self.query = parse_qsl(url.query, keep_blank_values=True)
        self.body = []
        self.json_body = False
        if self.command == "POST":
            n = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
            raw = self.rfile.read(n).decode("utf-8", "replace")
            if "json" in (self.headers.get("Content-Type") or ""):
                self.json_body = raw
            else:
                self.body = parse_qsl(raw, keep_blank_values=True)
        self.params = dict(self.query)
        self.params.update(dict(self.body))
        self.wflow = self.params.get("__wflow__") == "true" and self.params.get("__ajax__") == "true"
        self.cookies_in = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k:
                self.cookies_in[k] = unquote(v)
        self.cookies_out = []
        key = self.cookies_in.get("phsid")
        self.anon_key = key if key and key.startswith("A/") and key in self.sim.anon else None
        self.session = self.sim.session_by_key(key) if key and not key.startswith("A/") else None
        self.dead = bool(key) and not key.startswith("A/") and self.session is None
        if not key or (key.startswith("A/") and not self.anon_key):
            self.anon_key = "A/" + rand(40)
            self.sim.anon[self.anon_key] = self.sim.now()
            self.cookies_out.append(self.cookie("phsid", quote(self.anon_key, safe="")))

    # -- CSRF: "B@" + salt + 16 hex of an HMAC of the session key; valid for about 7 hours --

    def session_key(self):
        if self.session:
            return self.session["key"]
        return self.anon_key or self.cookies_in.get("phsid") or ""

    def csrf(self):
        salt = rand(8)
        key = self.session_key() if not self.sim.config.get("csrf_broken") else "broken"
        return "B@" + salt + csrf_hash(key, salt, self.sim.now() // 3600)

    def csrf_ok(self):
        token = self.params.get("__csrf__") or self.headers.get("X-Phabricator-Csrf") or ""
        if not token.startswith("B@") or len(token) != 26:
            return False
        salt, mac = token[2:10], token[10:]
        hour = self.sim.now() // 3600
        return any(hmac.compare_digest(mac, csrf_hash(self.session_key(), salt, h)) for h in range(hour - 7, hour + 1))

    def check_csrf(self):
        if self.command == "POST" and not self.csrf_ok():
            self.exception_page()

    # -- pages --

    def fill(self, page):
        page = page.replace(CAPTURED_HOST, self.host())
        return page.replace(CSRF_PLACEHOLDER, self.csrf())

    def chrome(self, page, captured, hisec=False):
        user = self.session["user"] if self.session else captured
        page = as_user(page, captured, user)
        page = with_platform(page, self.headers.get("User-Agent"))
        return with_hisec(page, hisec or self.in_hisec())

    def in_hisec(self):
        return bool(self.session) and self.session["hisec"] > self.sim.now()

    def page(self, page, captured="alice", status=200, cookies=(), hisec=False):
        self.send(status, self.fill(self.chrome(page, captured, hisec)), cookies=cookies)

    def dialog(self, fixture_name, subs=(), status=200, captured="alice", hisec=False):
        page = fixture(fixture_name)
        for a, b in subs:
            page = page.replace(a, b)
        if self.wflow:
            page = self.fill(self.chrome(page, captured, hisec))
            start = re.search(r'<form [^>]*class="aphront-dialog-view', page).start()
            form = page[start:page.index("</form>", start) + len("</form>")]
            form = form.replace('class="aphront-dialog-view ', 'class="aphront-dialog-view  aphront-dialog-view-standalone', 1)
            payload = {"error": None, "payload": {"dialog": form}, "javelin_metadata": [[] for _ in range(meta_count(form))],
                       "javelin_resources": [f"{self.www()}/res/defaultX/phabricator/342a44c0/core.pkg.css"]}
            return self.send(status, "for (;;);" + php_json(payload), "text/plain; charset=UTF-8")
        self.page(page, captured, status, hisec=hisec)

    def not_found(self):
        self.dialog("token-terminate-dialog-already-terminated.html", status=404)

    def exception_page(self):
        """A POST without a valid CSRF value: HTTP 500, "AphrontMalformedRequestException"."""
        page = fixture("token-terminate-post-no-csrf.html")
        crumb = app_crumb(self.route_path)
        if crumb:
            page = page.replace('<a href="/conduit/" class="phui-crumb-view phui-crumb-has-icon"><span class="visual-only phui-icon-view phui-font-fa fa-tty"',
                                f'<a href="{crumb[0]}" class="phui-crumb-view phui-crumb-has-icon"><span class="visual-only phui-icon-view phui-font-fa {crumb[1]}"')
            page = page.replace('<span class="phui-crumb-name"> Conduit</span>', f'<span class="phui-crumb-name"> {crumb[2]}</span>')
        if self.session is None:
            return self.send(500, self.fill(with_platform(page, self.headers.get("User-Agent"))))
        self.page(page, status=500)

    def login_page(self, next_uri=None, wrong=None):
        page = fixture("login-bad-password.html" if wrong is not None else "login-page.html")
        prefill = wrong if wrong is not None else self.cookies_in.get("phusr")
        if wrong is not None:
            page = page.replace('name="username" value="alice"', f'name="username" value="{esc(wrong)}"')
        elif prefill:
            page = page.replace('name="username" id="UQ0_0"', f'name="username" value="{esc(prefill)}" id="UQ0_0"')
        cookies = []
        if next_uri:
            cookies.append(self.cookie("next_uri", quote(f"{self.sim.now()},{next_uri}", safe=""), persistent=False))
        if next_uri is not None and "phcid" not in self.cookies_in:
            cookies.append(self.cookie("phcid", rand(16), persistent=False))
        self.send(200, self.fill(with_platform(page, self.headers.get("User-Agent"))), cookies=cookies)

    # -- who is asking --

    def require_login(self, allow_partial=False):
        s = self.session
        if self.dead:
            self.dead_session()
        if s is None:
            if self.wflow:
                self.login_required()
            self.login_page(next_uri=self.path)
        if s["partial"] and not allow_partial:
            if USERS[s["user"]]["totp"]:
                self.send(302, "", location=self.www() + "/auth/finish/")
            self.upgrade(s)
            self.send(302, "", location=self.www() + "/", cookies=[self.cookie("next_uri", None), self.cookie("jump_to_hisec", None)])
        return s

    def dead_session(self):
        """A cookie whose session Phorge ended: clear it, once (CAPTURE.md, dead-session-*)."""
        gone = [self.cookie("phusr", None), self.cookie("phsid", None)]
        if self.wflow:
            self.login_required()
        if self.command == "GET" and self.params.get("cleared") == "1":
            page = fixture("dead-session-cleared-followup.html")
            self.send(200, self.fill(with_platform(page, self.headers.get("User-Agent"))), cookies=gone)
        sep = "&" if urlparse(self.path).query else "?"
        self.send(302, "", location=self.www() + self.path + sep + "cleared=1", cookies=gone)

    def login_required(self):
        page = fixture("dead-session-login-required.workflow.txt").replace("\\/auth\\/session\\/terminate\\/2\\/",
                                                                         self.route_path.replace("/", "\\/"))
        self.send(200, self.fill(page), "text/plain; charset=UTF-8")

    def upgrade(self, s):
        s["partial"] = False
        s["expires"] = self.sim.now() + 30 * DAY
        self.sim.log("Login: Upgrade to Full", s["user"], s["digest"], self.sim.now())

    # -- routing --

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def route(self):
        with self.sim.lock:
            try:
                self.parse()
                for pattern, name in ROUTES:
                    m = re.fullmatch(pattern, self.route_path)
                    if m:
                        getattr(self, name)(*m.groups())
                        break
                else:
                    if self.route_path.startswith("/__sim/"):
                        self.send(404, "{}", "application/json")
                    self.not_found_plain()
            except Done:
                pass

    def not_found_plain(self):
        if self.session:
            self.not_found()
        self.send(404, self.fill(with_platform(fixture("login-page.html"), self.headers.get("User-Agent"))))


def formatdate(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")


def csrf_hash(key, salt, hour):
    return hmac.new(key.encode(), f"{salt}:{hour}".encode(), hashlib.sha1).hexdigest()[:16]


def app_crumb(path):
    """The application crumb of the page a path belongs to (href, icon, name)."""
    if path.startswith("/conduit/"):
        return None
    if path.startswith("/settings/"):
        return ("/settings/", "fa-wrench", "Settings")
    if path.startswith("/people/"):
        return ("/people/", "fa-users", "People")
    return ("/auth/", "fa-key", "Auth")


class Pages(Handler):
    """Signing in, the settings panels, high security."""

    # -- time, in the viewer's zone and format --

    def zone(self):
        return zone_of(self.sim.config.get("zone") or "UTC")

    def date(self, epoch):
        return php_date(date_format(epoch, self.sim.now()), epoch, self.zone())

    def datetime(self, epoch):
        return php_date(date_format(epoch, self.sim.now()) + ", " + self.sim.config["time_format"], epoch, self.zone())

    def time_of(self, epoch):
        return php_date(self.sim.config["time_format"], epoch, self.zone())

    # -- settings panels --

    def panel_page(self, key, inner, template=None):
        """A settings panel: its captured page with the panel box replaced."""
        page = fixture(PANEL_TEMPLATES[template or key])
        if template:
            page = retitled_panel(page, template, key)
        before, old, after = split_panel(page)
        chrome = as_user(before + "\0" + after, "alice", self.session["user"])
        metas = sorted(set(int(n) for _, n in META_RE.findall(old)))
        lo = metas[0] if metas else 0
        chrome = renumber_content_metas(chrome, lo + len(metas), lo + meta_count(inner))
        if not self.sim.config.get("prototypes", True):
            chrome = without_oauth_nav(chrome)
        page = chrome.replace("\0", inner)
        page = with_platform(page, self.headers.get("User-Agent"))
        self.send(200, self.fill(with_hisec(page, self.in_hisec())))

    def settings_redirect(self, key):
        s = self.require_login()
        self.send(302, "", location=f"{self.www()}/settings/user/{s['user']}/page/{key}/")

    def settings_panel(self, name, key):
        s = self.require_login()
        if name != s["user"]:
            self.not_found()
        handler = {"apitokens": self.apitokens_panel, "sessions": self.sessions_panel, "ssh": self.ssh_panel,
                   "oauthorizations": self.oauth_panel, "tokens": self.tokens_panel, "activity": self.activity_panel,
                   "datetime": self.datetime_panel}.get(key)
        if handler is None:
            self.not_found()
        handler(s)

    def apitokens_panel(self, s):
        u = USERS[s["user"]]
        rows = []
        for t in sorted(self.sim.live_tokens(s["user"]), key=lambda t: -t["id"]):
            rows.append((False, [
                ("wide pri", f'<a href="/conduit/token/edit/{t["id"]}/" data-sigil="workflow">{esc(t["name"])}</a>'),
                ("right", t["token"][:8] + "..."), ("", t["type_name"]), ("right", self.datetime(t["created"])),
                ("right", "Never" if t["expires"] is None else self.datetime(t["expires"])),
                ("action", f'<a class="button small button-grey" href="/conduit/token/terminate/{t["id"]}/" data-sigil="workflow">Terminate</a>'),
            ]))
        table = aphront_table(self.sim.config, [("wide pri", "Token Name"), ("right", "Token"), ("", "Type"), ("right", "Created"),
                                                ("right", "Expires"), ("action", "")], rows, "You don&#039;t have any active API tokens.")
        buttons = [header_button(f"/conduit/token/edit/?objectPHID={u['phid']}", "fa-plus", "Generate Token", 0, red=False),
                   header_button(f"/conduit/token/terminate/?objectPHID={u['phid']}", "fa-exclamation-triangle", "Terminate Tokens", 1)]
        self.panel_page("apitokens", object_box("Active API Tokens", buttons, table))

    def sessions_panel(self, s):
        now = self.sim.now()
        rows = []
        for x in sorted(self.sim.live_sessions(s["user"]), key=lambda x: -x["id"]):
            current = x is s
            action = ('<a class="small button button-grey disabled">Current</a>' if current else
                      f'<a href="/auth/session/terminate/{x["id"]}/" class="small button button-grey" data-sigil="workflow">Terminate</a>')
            rows.append((current, [
                ("wide", handle(x["user"])), ("n", x["digest"][:6]), ("", x["type"]),
                ("right", relative(x["hisec"] - now) if x["hisec"] > now else ""),
                ("right", self.datetime(x["created"])), ("right", self.date(x["expires"])), ("action", action),
            ]))
        table = aphront_table(self.sim.config, [("wide", "Identity"), ("n", "Session"), ("", "Type"), ("right", "HiSec"),
                                                ("right", "Created"), ("right", "Expires"), ("action", "")], rows, "No data available.")
        buttons = [header_button("/auth/session/terminate/all/", "fa-warning", "Terminate All Sessions", 0)]
        if self.in_hisec():
            buttons.append(header_button("/auth/session/downgrade/", "fa-lock", "Leave High Security", 1))
        self.panel_page("sessions", object_box("Active Login Sessions", buttons, table))

    def ssh_panel(self, s):
        rows = []
        for k in sorted((k for k in self.sim.sshkeys.values() if k["user"] == s["user"] and not k["revoked"]), key=lambda k: -k["id"]):
            rows.append((False, [("wide pri", f'<a href="/auth/sshkey/view/{k["id"]}/">{esc(k["name"])}</a>'), ("", esc(k["comment"])),
                                 ("", esc(k["type"])), ("right", self.datetime(k["created"]))]))
        table = aphront_table(self.sim.config, [("wide pri", "Name"), ("", "Comment"), ("", "Type"), ("right", "Added")], rows,
                              "You haven&#039;t added any SSH Public Keys.")
        button = header_button("#", "fa-gear", "SSH Key Actions", 3, dropdown=True)
        self.panel_page("ssh", object_box("SSH Public Keys", [button], table))

    def oauth_panel(self, s):
        if not self.sim.config.get("prototypes", True):
            self.not_found()
        revoke = self.params.get("revoke")
        if revoke is not None:
            return self.oauth_revoke(s, revoke)
        rows = []
        for a in sorted((a for a in self.sim.oauth.values() if a["user"] == s["user"]), key=lambda a: -a["id"]):
            rows.append((False, [("pri", f'<a href="/oauthserver/client/view/{a["client_id"]}/">{esc(a["client"])}</a>'),
                                 ("wide", esc(a["scope"])), ("right", self.datetime(a["created"])), ("right", self.datetime(a["updated"])),
                                 ("action", f'<a href="/settings/user/{s["user"]}/page/oauthorizations/?revoke={a["id"]}" '
                                            'class="small button button-grey" data-sigil="workflow">Revoke</a>')]))
        table = aphront_table(self.sim.config, [("pri", "Application"), ("wide", "Scope"), ("right", "Created"), ("right", "Updated"),
                                                ("action", "")], rows, "You haven&#039;t authorized any OAuth applications.")
        self.panel_page("oauthorizations", object_box("OAuth Application Authorizations", [], table))

    def tokens_panel(self, s):
        now = self.sim.now()
        rows = []
        for t in sorted((t for t in self.sim.temptokens.values() if t["user"] == s["user"]), key=lambda t: -t["id"]):
            live = t["expires"] > now
            button = (f'<a href="/auth/token/revoke/{t["id"]}/" class="small button button-grey" data-sigil="workflow">Revoke</a>'
                      if live and t["revocable"] else '<a class="small button button-grey disabled">Revoke</a>')
            rows.append((False, [("wide", esc(t["type"])), ("right", self.datetime(t["expires"]) if live else "Expired"), ("action", button)]))
        table = aphront_table(self.sim.config, [("wide", "Type"), ("right", "Expires"), ("action", "")], rows,
                              "You don&#039;t have any active tokens.")
        self.panel_page("tokens", object_box("Temporary Tokens", [header_button("/auth/token/revoke/all/", "fa-warning", "Revoke All", 0)], table))

    def activity_panel(self, s):
        rows = []
        for e in sorted((e for e in self.sim.activity if e["user"] == s["user"] and e["at"] <= self.sim.now()), key=lambda e: -e["id"]):
            rows.append((False, [("", str(e["id"])), ("wide", f'<a href="/people/logs/{e["id"]}/">{esc(e["action"])}</a>'),
                                 ("", handle(e["actor"]) if e["actor"] else ""), ("", handle(e["user"])), ("", e["ip"]),
                                 ("n", e["digest"]), ("", self.date(e["at"])), ("right", self.time_of(e["at"]))]))
        table = aphront_table(self.sim.config, [("", "ID"), ("wide", "Action"), ("", "Actor"), ("", "User"), ("", "IP"), ("n", "Session"),
                                                ("", "Date"), ("right", "Time")], rows, "No data available.")
        self.panel_page("activity", object_box("Account Activity Logs", [], table) +
                        '<div class="phui-box ml "><div class="phui-pager-view"></div></div>')

    def datetime_panel(self, s):
        """Not captured (see the module doc): the Date and Time panel's time zone select."""
        zones = ["UTC", "America/New_York", "Europe/Berlin", "Europe/London", "Asia/Tokyo", "Australia/Sydney"]
        mine = self.sim.config.get("zone") or "UTC"
        if mine not in zones:
            zones.append(mine)
        sel = ' selected="selected"'
        opts = "".join(f'<option value="{z}"{sel if z == mine else ""}>{z}</option>' for z in zones)
        fmt = self.sim.config["time_format"]
        tf = "".join(f'<option value="{v}"{sel if v == fmt else ""}>{label}</option>'
                     for v, label in (("g:i A", "12-hour (2:34 PM)"), ("H:i", "24-hour (14:34)")))
        form = (f'<div class="phui-box phui-box-border phui-object-box mlt mll mlr phui-box-white-config "><div class="phui-header-shell ">'
                '<h1 class="phui-header-view"><div class="phui-header-row"><div class="phui-header-col2"><span class="phui-header-header">'
                f'Date and Time</span></div><div class="phui-header-col3"></div></div></h1></div><form method="POST" action="/settings/user/{s["user"]}/page/datetime/">'
                f'<input type="hidden" name="__csrf__" value="{CSRF_PLACEHOLDER}" /><input type="hidden" name="__form__" value="1" />'
                '<div class="phui-form-view"><div class="aphront-form-control grouped aphront-form-control-select"><label class="aphront-form-label" for="UQ0_0">Timezone</label>'
                f'<div class="aphront-form-input"><select name="timezone" id="UQ0_0">{opts}</select></div></div>'
                '<div class="aphront-form-control grouped aphront-form-control-select"><label class="aphront-form-label" for="UQ0_1">Time Format</label>'
                f'<div class="aphront-form-input"><select name="timeFormat" id="UQ0_1">{tf}</select></div></div></div></form></div>')
        self.panel_page("datetime", form, template="activity")

    # -- signing in --

    def auth_start(self):
        if self.session and not self.session["partial"]:
            self.send(302, "", location=self.www() + "/")
        self.login_page(next_uri="")

    def password_login(self):
        if self.command != "POST":
            return self.login_page(next_uri="")
        self.check_csrf()
        if self.params.get("__form__") != "1":
            return self.login_page(next_uri="")
        name = self.params.get("username", "")
        user = next((u for u, d in USERS.items() if name.lower() in (u, d["email"])), None)
        if not user or USERS[user]["password"] != self.params.get("password"):
            return self.login_page(wrong=name)
        self.sim.anon.pop(self.anon_key, None)
        s = self.sim.add_session(user, self.sim.now(), partial=True, ua=self.headers.get("User-Agent") or "", ip=self.client_address[0])
        self.sim.logins += 1
        self.sim.log("Login: Partial Login", user, s["digest"], self.sim.now(), actor=False, ip=s["ip"])
        self.send(302, "", location=f"{self.www()}/auth/validate/?expect={user}", cookies=[
            self.cookie("phusr", user), self.cookie("phsid", s["key"]), self.cookie("phreg", None), self.cookie("phcid", None),
            self.cookie("invite", None)])

    def auth_validate(self):
        s = self.session
        if s is None or s["user"] != self.params.get("expect"):
            self.send(302, "", location=self.www() + "/auth/start/")
        self.send(302, "", location=self.www() + "/auth/finish/")

    def auth_finish(self):
        s = self.session
        if s is None:
            self.send(302, "", location=self.www() + "/auth/start/")
        done = [self.cookie("next_uri", None), self.cookie("jump_to_hisec", None)]
        target = self.next_uri()
        if not s["partial"]:
            self.send(302, "", location=self.www() + target, cookies=done)
        if not USERS[s["user"]]["totp"]:
            self.upgrade(s)
            self.send(302, "", location=self.www() + target, cookies=done)
        if self.command == "POST":
            self.check_csrf()
            if self.params.get("__hisec__") == "1" and self.params.get("__form__") == "1":
                answer, wait = self.factor_response(s, self.params.get("authfactor.1.mfa.response", ""))
                if answer:
                    self.upgrade(s)
                    self.send(302, "", location=self.www() + target, cookies=done)
                return self.mfa_prompt(s, wait=wait, wrong=None if wait else self.params.get("authfactor.1.mfa.response", ""))
        self.mfa_prompt(s, wait=self.factor_challenge(s))

    def next_uri(self):
        raw = self.cookies_in.get("next_uri", "")
        _, _, uri = raw.partition(",")
        return uri if uri.startswith("/") and not uri.startswith("//") else "/"

    def mfa_prompt(self, s, wait=None, wrong=None):
        page = fixture("login-mfa-prompt.html").replace("<strong>bob</strong>", f"<strong>{s['user']}</strong>")
        page = self.factor_control(page, "", wait, wrong)
        self.page(page, captured="bob")

    def factor_control(self, page, after_hidden, wait, wrong):
        """The factor's form control: the code input, the same with "Invalid", or a cool-down."""
        control = re.search(r'<div class="aphront-form-control grouped phui-form-number">.*?Factor Name: Mobile App \(TOTP\)</div></div>', page).group(0)
        if wait:
            new = ('<div class="aphront-form-control grouped phui-form-timer"><label class="aphront-form-label">App Code</label>'
                   f'<div class="aphront-form-input"><div class="phui-form-timer-content">{wait}</div></div>'
                   '<div class="aphront-form-caption">Factor Name: Mobile App (TOTP)</div></div>')
            return page.replace(control, new)
        if wrong is not None:
            new = control.replace('App Code</label>', 'App Code<span class="aphront-form-error">Invalid</span></label><span class="aphront-form-error">Invalid</span>')
            new = new.replace('name="authfactor.1.mfa.response" autocomplete', f'name="authfactor.1.mfa.response" value="{esc(wrong)}" autocomplete')
            page = page.replace(control, new)
        return page

    # -- the TOTP factor: one response per code, and a cool-down (CAPTURE.md, phorge-hypothesis.md) --

    def factor_wait(self, s):
        now, cool = self.sim.now(), int(self.sim.config.get("cooldown", 90))
        for c in reversed(self.sim.challenges):
            if c["user"] != s["user"] or now - c["at"] >= cool:
                continue
            left = cool - (now - c["at"])
            unit = "second" if left == 1 else "seconds"
            if c.get("answered"):
                return (f"You recently provided a response to this factor. Responses may not be reused. "
                        f"Wait {left} {unit} for the code to cycle, then try again.")
            if c["session"] != s["key"]:
                return (f"This factor recently issued a challenge to a different login session. "
                        f"Wait {left} {unit} for the code to cycle, then try again.")
        return None

    def factor_challenge(self, s):
        wait = self.factor_wait(s)
        if not wait and not any(c["session"] == s["key"] and not c.get("answered") and self.sim.now() - c["at"] < int(self.sim.config.get("cooldown", 90))
                                for c in self.sim.challenges):
            self.sim.challenges.append({"user": s["user"], "session": s["key"], "at": self.sim.now()})
        return wait

    def factor_response(self, s, code):
        """(accepted, wait text)."""
        wait = self.factor_wait(s)
        if wait:
            return False, wait
        step = self.sim.now() // 30
        secret = USERS[s["user"]]["totp"]
        for st in (step - 1, step, step + 1):
            if hmac.compare_digest(code, totp(secret, st)) and (s["user"], st) not in self.sim.used_steps:
                self.sim.used_steps.add((s["user"], st))
                self.sim.challenges.append({"user": s["user"], "session": s["key"], "at": self.sim.now(), "answered": True})
                return True, None
        return False, None

    # -- high security: the checkpoint in place of an action, which then must be sent again --

    def high_security(self, s, cancel, crumb=None):
        """Returns when the session may act; otherwise answers with the checkpoint, or raises
        Reshow after a good code: the action itself is NOT carried out then."""
        hisec_post = self.params.get("__hisec__") == "1" and self.command == "POST"
        needed = bool(USERS[s["user"]]["totp"]) and not self.in_hisec()
        if not hisec_post:
            if needed:
                self.checkpoint(s, cancel, crumb, wait=self.factor_challenge(s))
            return
        self.check_csrf()
        if not needed:
            raise Reshow()
        code = self.params.get("authfactor.1.mfa.response", "")
        ok, wait = self.factor_response(s, code)
        if ok:
            s["hisec"] = self.sim.now() + 15 * 60
            raise Reshow()
        self.checkpoint(s, cancel, crumb, wait=wait, wrong=None if wait else code)

    def checkpoint(self, s, cancel, crumb, wait=None, wrong=None):
        self.sim.hisec_prompts += 1
        page = fixture("hisec-prompt.html")
        # The request's own fields ride along (the captured order is by name).
        carried = sorted((k, v) for k, v in dict(self.query + self.body).items() if not k.startswith("__"))
        hidden = "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}" data-sigil="aphront-dialog-application-input" />' for k, v in carried)
        page = page.replace('<input type="hidden" name="objectPHID" value="PHID-USER-ahhbdrj7a2ksreny5lsd" data-sigil="aphront-dialog-application-input" />', hidden)
        page = page.replace('<form action="/conduit/token/edit/"', f'<form action="{self.route_path}"')
        page = page.replace('href="/settings/user/bob/page/apitokens/" class="button button-grey" name="__cancel__"',
                            f'href="{cancel}" class="button button-grey" name="__cancel__"')
        if crumb:
            page = page.replace('<a href="/conduit/" class="phui-crumb-view phui-crumb-has-icon"><span class="visual-only phui-icon-view phui-font-fa fa-tty"',
                                f'<a href="{crumb[0]}" class="phui-crumb-view phui-crumb-has-icon"><span class="visual-only phui-icon-view phui-font-fa {crumb[1]}"')
            page = page.replace('<span class="phui-crumb-name"> Conduit</span>', f'<span class="phui-crumb-name"> {crumb[2]}</span>')
        page = self.factor_control(page, hidden, wait, wrong)
        self.page(page, captured="bob")

    # -- signing out --

    def logout(self):
        s = self.require_login(allow_partial=True)
        if self.command == "POST":
            self.check_csrf()
            if self.params.get("__form__") == "1":
                del self.sim.sessions[s["key"]]
                self.sim.log("Logout", s["user"], s["digest"], self.sim.now())
                self.send(302, "", location=self.www() + "/auth/loggedout/", cookies=[self.cookie("phsid", None)])
        self.dialog("logout-dialog.html")

    def loggedout(self):
        self.login_page()

    def home(self):
        """Not captured: a minimal page (the captures never followed a redirect to /)."""
        self.require_login()
        self.send(200, "<!DOCTYPE html><html><head><title>Phorge</title></head><body>Home</body></html>")


class Reshow(Exception):
    """High security was entered (or already on): show the action's own dialog, do nothing."""


class Routes(Pages):
    """The actions, Conduit, and the test helpers."""

    # -- Conduit API tokens --

    def own_token(self, s, tid):
        t = self.sim.tokens.get(int(tid))
        if not t or t["user"] != s["user"] or (t["expires"] is not None and t["expires"] <= self.sim.now()):
            self.not_found()
        return t

    def apitokens_url(self, s):
        return f"/settings/user/{s['user']}/page/apitokens/"

    def token_generate(self):
        s = self.require_login()
        try:
            self.high_security(s, self.apitokens_url(s))
            if self.command == "POST" and self.params.get("__form__") == "1":
                self.check_csrf()
                if self.sim.config.get("ignore_actions"):
                    self.redirect(self.apitokens_url(s))
                t = self.sim.add_token(s["user"], self.sim.now())
                self.redirect(f"/conduit/token/edit/{t['id']}/")
        except Reshow:
            pass
        self.dialog("token-generate-dialog.html")

    def token_edit(self, tid):
        s = self.require_login()
        t = self.own_token(s, tid)
        error = None
        try:
            self.high_security(s, self.apitokens_url(s))
            if self.command == "POST" and self.params.get("__form__") == "1":
                self.check_csrf()
                name = self.params.get("name", "")
                if not name.strip():
                    error = "Tokens must have a name."
                elif len(name.encode("utf-8")) > 64:
                    error = "Token names must not be longer than 64 characters."  # not captured
                else:
                    if not self.sim.config.get("ignore_actions"):
                        t["name"] = name
                    self.redirect(self.apitokens_url(s))
        except Reshow:
            pass
        if error:
            return self.dialog("token-rename-empty-name.html", [
                ("/conduit/token/edit/1/", f"/conduit/token/edit/{t['id']}/"), ("api-fka1xxxxxxxxxxxxxxxxxxxxxxxx", t["token"]),
                ('name="name" value="Standard API Token"', f'name="name" value="{esc(t["name"])}"'), ("Tokens must have a name.", error)])
        self.dialog("token-edit-dialog.html", [
            ("/conduit/token/edit/2/", f"/conduit/token/edit/{t['id']}/"), ("api-fkb2xxxxxxxxxxxxxxxxxxxxxxxx", t["token"]),
            ('name="name" value="Standard API Token"', f'name="name" value="{esc(t["name"])}"')])

    def token_terminate(self, tid):
        s = self.require_login()
        t = self.own_token(s, tid)
        try:
            self.high_security(s, self.apitokens_url(s))
            if self.command == "POST" and self.params.get("__form__") == "1":
                self.check_csrf()
                if not self.sim.config.get("ignore_actions"):
                    t["expires"] = self.sim.now() - 60
                self.redirect(self.apitokens_url(s))
        except Reshow:
            pass
        self.dialog("token-terminate-dialog.html", [("/conduit/token/terminate/2/", f"/conduit/token/terminate/{t['id']}/")])

    def token_terminate_all(self):
        s = self.require_login()
        try:
            self.high_security(s, self.apitokens_url(s))
            if self.command == "POST" and self.params.get("__form__") == "1" and self.params.get("objectPHID") == USERS[s["user"]]["phid"]:
                self.check_csrf()
                for t in self.sim.live_tokens(s["user"]):
                    if not self.sim.config.get("ignore_actions"):
                        t["expires"] = self.sim.now() - 60
                self.redirect(self.apitokens_url(s))
        except Reshow:
            pass
        self.dialog("token-terminate-all-dialog.html")

    def conduit_login(self):
        """Each GET makes a new command-line token (never call this from a client that only looks)."""
        s = self.require_login()
        try:
            self.high_security(s, "/")
        except Reshow:
            pass
        t = self.sim.add_token(s["user"], self.sim.now(), kind="cli")
        self.dialog("conduit-login-page.html", [("cli-fkc3xxxxxxxxxxxxxxxxxxxxxxxx", t["token"])])

    # -- sessions --

    def session_terminate(self, which):
        s = self.require_login()
        if which == "all":
            if self.command == "POST" and self.params.get("__form__") == "1":
                self.check_csrf()
                if self.params.get("__dialog__") == "1":
                    if not self.sim.config.get("ignore_actions"):
                        for x in list(self.sim.sessions.values()):
                            if x["user"] == s["user"] and x is not s:
                                del self.sim.sessions[x["key"]]
                    self.redirect("/settings/panel/sessions/")
            return self.dialog("session-terminate-all-dialog.html")
        target = next((x for x in self.sim.live_sessions(s["user"]) if str(x["id"]) == which), None)
        if target is None or target is s:
            return self.dialog("session-terminate-dialog-current.html", [("/auth/session/terminate/3/", f"/auth/session/terminate/{which}/")])
        if self.command == "POST" and self.params.get("__form__") == "1":
            self.check_csrf()
            if self.params.get("__dialog__") == "1":
                if not self.sim.config.get("ignore_actions"):
                    del self.sim.sessions[target["key"]]
                self.redirect("/settings/panel/sessions/")
        self.dialog("session-terminate-dialog.html", [("/auth/session/terminate/4/", f"/auth/session/terminate/{target['id']}/"),
                                                      ("<strong>90c30b</strong>", f"<strong>{target['digest'][:6]}</strong>")])

    def session_downgrade(self):
        """Not captured: "Leave High Security"."""
        s = self.require_login()
        if self.command == "POST" and self.params.get("__form__") == "1":
            self.check_csrf()
            s["hisec"] = 0
            self.redirect("/settings/panel/sessions/")
        self.not_found()

    # -- temporary tokens --

    def temptoken_revoke(self, which):
        s = self.require_login()
        url = f"/settings/user/{s['user']}/page/tokens/"
        mine = [t for t in self.sim.temptokens.values() if t["user"] == s["user"] and t["revocable"] and t["expires"] > self.sim.now()]
        if which != "all":
            mine = [t for t in mine if str(t["id"]) == which]
            if not mine:
                self.not_found()
        if self.command == "POST" and self.params.get("__form__") == "1":
            self.check_csrf()
            if self.params.get("__dialog__") == "1":
                if not self.sim.config.get("ignore_actions"):
                    for t in mine:
                        t["expires"] = self.sim.now()
                self.redirect(url)
        if which == "all":
            return self.dialog("temptoken-revoke-all-dialog.html")
        self.dialog("temptoken-revoke-dialog.html", [("/auth/token/revoke/1/", f"/auth/token/revoke/{which}/")])

    # -- SSH keys --

    def own_key(self, s, kid):
        k = self.sim.sshkeys.get(int(kid))
        if not k or k["user"] != s["user"]:
            self.not_found()
        return k

    def sshkey_view(self, kid):
        s = self.require_login()
        k = self.own_key(s, kid)
        page = fixture("ssh-key-view-revoked.html" if k["revoked"] else "ssh-key-view.html")
        laptop = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIETMidSIfqWJEF8qCxga+jQBNSHUjAoWZGYM56fVfhVy alice@laptop"
        zone = self.zone()
        subs = [("/auth/sshkey/edit/1/", f"/auth/sshkey/edit/{k['id']}/"), ("/auth/sshkey/revoke/1/", f"/auth/sshkey/revoke/{k['id']}/"),
                ("SSH Key 1", f"SSH Key {k['id']}"), (laptop, esc(k["key"])), ("</span>alice-laptop</span>", f"</span>{esc(k['name'])}</span>"),
                ("Sun, Nov 22, 1:02 PM", self.datetime(k["created"])), ("PHID-XACT-AKEY-fniku3cv4fd3dcw", k["xact"]),
                ("2026-11-22 13:02:17 (UTC+0)", datetime.fromtimestamp(k["created"], zone).strftime("%Y-%m-%d %H:%M:%S (UTC%z)")
                 .replace("+0000", "+0"))]
        for a, b in subs:
            page = page.replace(a, b)
        self.page(page)

    def sshkey_revoke(self, kid):
        s = self.require_login()
        k = self.own_key(s, kid)
        if k["revoked"]:
            return self.dialog("ssh-revoke-dialog-already-revoked.html", [("SSH Key 1", f"SSH Key {k['id']}")])
        try:
            self.high_security(s, f"/auth/sshkey/view/{k['id']}/", crumb=("/auth/", "fa-key", "Auth"))
            if self.command == "POST" and self.params.get("__form__") == "1":
                self.check_csrf()
                if not self.sim.config.get("ignore_actions"):
                    k["revoked"] = True
                self.redirect(f"/auth/sshkey/view/{k['id']}/")
        except Reshow:
            pass
        self.dialog("ssh-revoke-dialog.html", [("/auth/sshkey/revoke/1/", f"/auth/sshkey/revoke/{k['id']}/"),
                                               ("/auth/sshkey/view/1/", f"/auth/sshkey/view/{k['id']}/"),
                                               ("<strong>alice-laptop</strong>", f"<strong>{esc(k['name'])}</strong>")])

    def sshkey_upload(self):
        s = self.require_login()
        try:
            self.high_security(s, f"/settings/user/{s['user']}/page/ssh/", crumb=("/auth/", "fa-key", "Auth"))
            if self.command == "POST" and self.params.get("__form__") == "1":
                self.check_csrf()
                key, name = self.params.get("key", "").strip(), self.params.get("name", "").strip()
                if key and name and len(key.split()) >= 2:
                    self.sim.add_sshkey(s["user"], self.sim.now(), name, key)
                    self.redirect("/settings/panel/ssh/")
        except Reshow:
            pass
        self.dialog("ssh-upload-dialog.html")

    # -- OAuth authorizations --

    def oauth_revoke(self, s, aid):
        a = self.sim.oauth.get(int(aid) if aid.isdigit() else 0)
        if not a or a["user"] != s["user"]:
            self.not_found()
        if self.command == "POST" and self.params.get("__form__") == "1":
            self.check_csrf()
            if not self.sim.config.get("ignore_actions"):
                del self.sim.oauth[a["id"]]
            self.redirect(f"/settings/user/{s['user']}/page/oauthorizations/")
        self.dialog("oauth-revoke-dialog.html")

    # -- logs --

    def people_logs(self):
        self.require_login()
        self.dialog("people-logs-forbidden.html", status=403)

    def people_log(self, lid):
        s = self.require_login()
        e = next((e for e in self.sim.activity if str(e["id"]) == lid and e["user"] == s["user"]), None)
        if e is None:
            self.not_found()
        page = fixture("people-log-entry.html")
        page = page.replace("Activity Log 8", f"Activity Log {e['id']}").replace("Login: Upgrade to Full </dd>", f"{esc(e['action'])} </dd>")
        page = page.replace("Sun, Nov 22, 1:01 PM </dd>", f"{self.datetime(e['at'])} </dd>").replace("127.0.0.1 </dd>", f"{e['ip']} </dd>")
        if not e["actor"]:
            page = re.sub(r'(Acting User </dt><dd class="phui-property-list-value">)<a href="/p/[^"]+/" class="phui-handle[^>]*>'
                          r'<span class="perfect-circle">•</span> \w+</a>', r"\1", page)
        self.page(page)

    def conduit_log_page(self):
        s = self.require_login()
        page = fixture("conduit-log.html")
        start = page.index('<div class="aphront-table-wrap">')
        end = page.index("</table></div>", start) + len("</table></div>")
        rows = []
        for c in reversed([c for c in self.sim.conduit_log if c["caller"] == s["user"] and c["at"] <= self.sim.now()]):
            rows.append((False, [("", ""), ("pri", esc(c["method"])), ("", handle(c["caller"])), ("wide right", esc(c["error"])),
                                 ("", f"{c['duration']:,} us"), ("", self.datetime(c["at"]))]))
        table = aphront_table({}, [("", ""), ("pri", "Method"), ("", "Caller"), ("wide right", "Error"), ("", "Duration"), ("", "Date")],
                              rows, "No data available.")
        self.page(page[:start] + table + page[end:])

    # -- Conduit --

    def conduit(self, method):
        """POST (or GET) /api/<method>: always HTTP 200 JSON, errors in error_code/error_info."""
        def answer(result=None, code=None, info=None):
            self.send(200, php_json({"result": result, "error_code": code, "error_info": info}), "application/json")

        def error_fixture(name):
            self.send(200, fixture(name), "application/json")

        if self.json_body is not False:
            error_fixture("conduit-error-json-body.json")
        try:
            params = json.loads(self.params.get("params") or "{}")
        except ValueError:
            params = {}
        meta = params.get("__conduit__") or {} if isinstance(params, dict) else {}
        caller = None
        if self.session and not self.session["partial"]:
            # A logged-in cookie wins over any token; then CSRF is required (CAPTURE.md).
            if not self.csrf_ok():
                token = self.params.get("__csrf__") or ""
                info = ("You are trying to save some data to permanent storage, but the request your browser made included an incorrect "
                        "token. Reload the page and try again. You may need to clear your cookies.\nThis was a Web request.\n" +
                        ("This request had no CSRF token." if not token else "The CSRF token you provided was invalid."))
                answer(code="ERR-CONDUIT-CORE", info=info)
            caller = self.session["user"]
        else:
            token = self.params.get("api.token") or meta.get("token")
            if token:
                if len(token) != 32:
                    answer(code="ERR-INVALID-AUTH", info=f'API token "{token}" has the wrong length. API tokens should be 32 characters long.')
                t = self.sim.token_by_value(token)
                if t is None:
                    answer(code="ERR-INVALID-AUTH", info=f'API token "{token}" is not valid.')
                if t["expires"] is not None and t["expires"] <= self.sim.now():
                    answer(code="ERR-INVALID-AUTH", info=f'API token "{token}" was previously valid, but has expired.')
                if t["type"] == "cli" and not t["used"]:
                    t["expires"] = None  # the first use of a command-line token makes it permanent
                t["used"] = True
                caller = t["user"]
            elif meta.get("sessionKey"):
                s = self.sim.session_by_key(meta["sessionKey"])
                if s is None or s["type"] != "conduit":
                    error_fixture("conduit-error-invalid-session.json")
                caller = s["user"]
        if method == "conduit.getcapabilities":
            error_fixture("conduit-conduit.getcapabilities.json")
        known = {"conduit.query", "conduit.connect", "user.whoami", "auth.querypublickeys", "auth.logout"}
        if method not in known and method not in json.loads(fixture("conduit-conduit.query.json"))["result"]:
            answer(code="ERR-CONDUIT-CALL", info=f'Conduit API method "{method}" does not exist.')
        if method == "conduit.connect":
            return self.conduit_connect(params, answer)
        if caller is None:
            error_fixture("conduit-error-no-token.json")
        started = time.time()
        result = None
        if method == "conduit.query":
            body = fixture("conduit-conduit.query.json")
            self.sim.conduit_called(method, caller, self.sim.now(), int((time.time() - started) * 1e6) + 3000)
            self.send(200, body, "application/json")
        if method == "user.whoami":
            u = USERS[caller]
            result = {"phid": u["phid"], "userName": caller, "realName": u["real"],
                      "image": f"{self.www()}/file/data/{u['image']}", "uri": f"{self.www()}/p/{caller}/",
                      "roles": ["unverified", "approved", "activated"], "primaryEmail": None}
        elif method == "auth.querypublickeys":
            wanted = params.get("objectPHIDs") or None
            keys = [k for k in self.sim.sshkeys.values() if not k["revoked"]
                    and (wanted is None or USERS[k["user"]]["phid"] in wanted)]
            data = [{"id": str(k["id"]), "name": k["name"], "phid": k["phid"], "objectPHID": USERS[k["user"]]["phid"],
                     "isTrusted": k["trusted"], "key": k["key"]} for k in sorted(keys, key=lambda k: -k["id"])]
            result = {"data": data, "cursor": {"limit": 100, "after": None, "before": None}}
        elif method == "auth.logout":
            for x in list(self.sim.sessions.values()):
                if x["user"] == caller:
                    del self.sim.sessions[x["key"]]
        else:
            answer(code="ERR-CONDUIT-CALL", info=f'Conduit API method "{method}" is not simulated.')
        self.sim.conduit_called(method, caller, self.sim.now(), int((time.time() - started) * 1e6) + 3000)
        answer(result)

    def conduit_connect(self, params, answer):
        """The legacy certificate handshake: makes a `conduit` session."""
        user = params.get("user")
        u = USERS.get(user)
        token = str(params.get("authToken", ""))
        if not u or params.get("authSignature") != hashlib.sha1((token + u["certificate"]).encode()).hexdigest():
            answer(code="ERR-INVALID-CERTIFICATE", info="Authentication is invalid.")
        key = self.sim.next_values.pop(0) if self.sim.next_values and self.sim.next_values[0].startswith("fakeconduit") else rand(40)
        s = self.sim.add_session(user, self.sim.now(), kind="conduit", key=key, ip=self.client_address[0])
        self.sim.log("Login", user, s["digest"], self.sim.now(), actor=False, ip=s["ip"])
        self.sim.conduit_called("conduit.connect", user, self.sim.now())
        conn = 123456789 if key.startswith("fakeconduit") else random.randint(10 ** 8, 10 ** 9)
        answer({"connectionID": conn, "sessionKey": key, "userPHID": u["phid"]})

    # -- test helpers, not Phorge --

    def sim_json(self):
        raw = self.json_body if self.json_body is not False else "{}"
        try:
            return json.loads(raw or "{}")
        except ValueError:
            return {}

    def sim_state(self):
        self.send(200, json.dumps(self.sim.state()), "application/json")

    def sim_config(self):
        self.sim.config.update(self.sim_json())
        self.send(200, json.dumps(self.sim.config), "application/json")

    def sim_clock(self):
        a = self.sim_json()
        if "at" in a:
            self.sim.frozen = int(a["at"])
        if a.get("frozen") is False and self.sim.frozen is not None:
            self.sim.base, self.sim.started, self.sim.offset, self.sim.frozen = self.sim.frozen, time.time(), 0, None
        if "advance" in a:
            if self.sim.frozen is not None:
                self.sim.frozen += int(a["advance"])
            else:
                self.sim.offset += int(a["advance"])
        self.send(200, json.dumps({"now": self.sim.now()}), "application/json")

    def sim_code(self):
        user = self.params.get("user", "bob")
        self.send(200, json.dumps({"code": totp(USERS[user]["totp"], self.sim.now() // 30)}), "application/json")

    def sim_login(self):
        a = self.sim_json()
        kind = a.get("kind", "web")
        s = self.sim.add_session(a.get("user", "alice"), self.sim.now(), kind=kind, ua=a.get("ua", ""), ip=a.get("ip", "198.51.100.7"))
        if kind == "conduit":
            self.sim.log("Login", s["user"], s["digest"], self.sim.now(), actor=False, ip=s["ip"])
        else:
            self.sim.log("Login: Partial Login", s["user"], s["digest"], self.sim.now(), actor=False, ip=s["ip"])
            self.sim.log("Login: Upgrade to Full", s["user"], s["digest"], self.sim.now(), ip=s["ip"])
        self.send(200, json.dumps({"id": s["id"], "digest": s["digest"][:6], "phsid": s["key"]}), "application/json")

    def sim_end_session(self):
        a = self.sim_json()
        for x in list(self.sim.sessions.values()):
            if x["id"] == a.get("id") or (a.get("user") and x["user"] == a["user"]):
                del self.sim.sessions[x["key"]]
        self.send(200, "{}", "application/json")

    def sim_add(self, kind):
        a = self.sim_json()
        user, now = a.get("user", "alice"), self.sim.now()
        if kind == "token":
            obj = self.sim.add_token(user, now, name=a.get("name"), kind=a.get("type", "api"))
        elif kind == "sshkey":
            obj = self.sim.add_sshkey(user, now, a.get("name", "laptop"), a.get("key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx" + rand(40) + " me@laptop"))
            obj["trusted"] = bool(a.get("trusted"))
        elif kind == "temptoken":
            obj = self.sim.add_temptoken(user, now, kind=a.get("type", "One-Time Login Token"), revocable=a.get("revocable", True))
        elif kind == "oauth":
            obj = self.sim.add_oauth(user, now, client=a.get("client", "Demo Client App"), scope=a.get("scope", ""))
        else:
            obj = {}
        self.send(200, json.dumps(obj), "application/json")

    def sim_conduit_call(self):
        a = self.sim_json()
        self.sim.conduit_called(a.get("method", "user.whoami"), a.get("user", "alice"), self.sim.now())
        self.send(200, "{}", "application/json")

    def sim_scene(self):
        a = self.sim_json()
        fn = SCENES.get(a.get("name", ""))
        if fn is None:
            self.send(404, json.dumps({"error": "no such scene"}), "application/json")
        phsid = fn(self.sim)
        if "viewer" in a:
            phsid = next(x["key"] for x in self.sim.sessions.values() if x["id"] == a["viewer"])
        self.send(200, json.dumps({"phsid": phsid, "now": self.sim.now()}), "application/json")


ROUTES = [
    (r"/__sim/state", "sim_state"), (r"/__sim/config", "sim_config"), (r"/__sim/clock", "sim_clock"), (r"/__sim/code", "sim_code"),
    (r"/__sim/login", "sim_login"), (r"/__sim/end_session", "sim_end_session"), (r"/__sim/scene", "sim_scene"),
    (r"/__sim/conduit_call", "sim_conduit_call"),
    (r"/__sim/add_(token|sshkey|temptoken|oauth)", "sim_add"),
    (r"/", "home"), (r"/auth/start/", "auth_start"), (r"/auth/login/password:self/", "password_login"),
    (r"/auth/validate/", "auth_validate"), (r"/auth/finish/", "auth_finish"), (r"/logout/", "logout"), (r"/auth/loggedout/", "loggedout"),
    (r"/settings/panel/(\w+)/", "settings_redirect"), (r"/settings/user/(\w+)/page/(\w+)/", "settings_panel"),
    (r"/conduit/token/edit/", "token_generate"), (r"/conduit/token/edit/(\d+)/", "token_edit"),
    (r"/conduit/token/terminate/", "token_terminate_all"), (r"/conduit/token/terminate/(\d+)/", "token_terminate"),
    (r"/conduit/login/", "conduit_login"), (r"/conduit/log/", "conduit_log_page"),
    (r"/auth/session/terminate/(\d+|all)/", "session_terminate"), (r"/auth/session/downgrade/", "session_downgrade"),
    (r"/auth/token/revoke/(\d+|all)/", "temptoken_revoke"),
    (r"/auth/sshkey/view/(\d+)/", "sshkey_view"), (r"/auth/sshkey/revoke/(\d+)/", "sshkey_revoke"), (r"/auth/sshkey/upload/", "sshkey_upload"),
    (r"/people/logs/", "people_logs"), (r"/people/logs/(\d+)/", "people_log"),
    (r"/api/([\w.]+)", "conduit"),
]


# ---- the captures' states (CAPTURE.md tells which request each file answered, and when) ----

X11 = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"


def scene(at, *edits, prototypes=True, viewer=3, next_values=()):
    """Loads the world of the captures at `at`, applies edits (what had changed by then), and
    answers the cookie of the capture's session."""
    def load(sim):
        sim.capture_world(at)
        sim.config["prototypes"] = prototypes
        for edit in edits:
            edit(sim)
        sim.next_values = list(next_values)
        v = next((x for x in sim.sessions.values() if x["id"] == viewer), None)
        return v["key"] if v else None
    return load


def drop(collection, *ids):
    def edit(sim):
        coll = getattr(sim, collection)
        for key, obj in list(coll.items()):
            if obj["id"] in ids:
                del coll[key]
    return edit


def only(collection, *ids):
    def edit(sim):
        coll = getattr(sim, collection)
        for key, obj in list(coll.items()):
            if obj["id"] not in ids:
                del coll[key]
    return edit


def session(sid, digest, created, user="alice", ua="", kind="web", key=None, hisec=0):
    def edit(sim):
        s = sim.add_session(user, created, kind=kind, digest=digest + "0" * 34, key=key, ua=ua, sid=sid)
        s["hisec"] = created + hisec if hisec else 0
    return edit


def token(tid, created, kind, value, never=False):
    def edit(sim):
        t = sim.add_token("alice", created, kind=kind, value=value, tid=tid)
        if never:
            t["expires"] = None
    return edit


def named(tid, name):
    def edit(sim):
        sim.tokens[tid]["name"] = name
    return edit


def revoked_key(kid):
    def edit(sim):
        sim.sshkeys[kid]["revoked"] = True
    return edit


def terminated(tid, at):
    def edit(sim):
        sim.tokens[tid]["expires"] = at - 60
    return edit


def next_token(tid):
    def edit(sim):
        sim.next_ids["token"] = tid
    return edit


def bob_in_hisec(sim):
    s = next(x for x in sim.sessions.values() if x["user"] == "bob")
    s["hisec"] = sim.now() + 15 * 60


BOB = session(6, "c3f3b0", T0 + 240, user="bob")
SCENES = {
    "login": scene(T0 + 104, viewer=None),
    "tokens-empty": scene(T0 + 115, only("tokens"), next_token(1), prototypes=False, next_values=["api-fka1xxxxxxxxxxxxxxxxxxxxxxxx"]),
    "tokens": scene(T0 + 150, prototypes=False),
    "tokens-unnamed": scene(T0 + 121, named(1, "Standard API Token"), prototypes=False),
    "tokens-and-4": scene(T0 + 205, token(4, T0 + 200, "api", "api-fkd4xxxxxxxxxxxxxxxxxxxxxxxx"), prototypes=False),
    "tokens-generate-4": scene(T0 + 200, next_token(4), prototypes=False, next_values=["api-fkd4xxxxxxxxxxxxxxxxxxxxxxxx"]),
    "tokens-after-terminate": scene(T0 + 230, terminated(2, T0 + 208)),
    "cli-token": scene(T0 + 245, terminated(2, T0 + 208), prototypes=False, next_values=["cli-fkc3xxxxxxxxxxxxxxxxxxxxxxxx"]),
    "cli-unused": scene(T0 + 246, terminated(2, T0 + 208), token(3, T0 + 245, "cli", "cli-fkc3xxxxxxxxxxxxxxxxxxxxxxxx")),
    "cli-used": scene(T0 + 247, terminated(2, T0 + 208), token(3, T0 + 245, "cli", "cli-fkc3xxxxxxxxxxxxxxxxxxxxxxxx", never=True)),
    "sessions": scene(T0 + 200),
    "sessions-after-terminate": scene(T0 + 221, drop("sessions", 4)),
    "sessions-conduit": scene(T0 + 260, drop("sessions", 4),
                              session(5, "aa3c24", T0 + 250, kind="conduit", key="fakeconduitsessionkeyaaaaaaaaaaaaaaaaaaa")),
    "sessions-after-terminate-all": scene(T0 + 381, drop("sessions", 2, 4)),
    "sessions-two-dates": scene(T0 + 390, drop("sessions", 2, 4), session(9, "d2bcca", T0 + 390, ua=WINDOWS), viewer=9),
    "bob": scene(T0 + 245, BOB, viewer=6),
    "bob-hisec": scene(T0 + 245, BOB, bob_in_hisec, viewer=6),
    "ssh-empty": scene(T0 + 130, only("sshkeys"), prototypes=False),
    "ssh": scene(T0 + 150, prototypes=False),
    "ssh-after-revoke": scene(T0 + 232, revoked_key(1)),
    "oauth": scene(T0 + 200),
    "oauth-empty": scene(T0 + 244, only("oauth")),
    "prototypes-off": scene(T0 + 200, prototypes=False),
    "temptokens": scene(T0 + 200),
    "temptokens-empty": scene(T0 + 140, only("temptokens"), prototypes=False),
    "activity": scene(T0 + 410, drop("sessions", 2, 4)),
    "conduit-log": scene(T0 + 410),
    "connect": scene(T0 + 250, prototypes=False, next_values=["fakeconduitsessionkeyaaaaaaaaaaaaaaaaaaa"]),
    "mac": scene(T0 + 370, session(7, "21dd82", T0 + 362, ua=MAC), viewer=7),
}


def main():
    config = {}
    for arg in sys.argv[1:]:
        k, _, v = arg.lstrip("-").partition("=")
        config[k.replace("-", "_")] = {"": True, "true": True, "false": False}.get(v, v)
    Routes.sim = Sim(config)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Routes)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
