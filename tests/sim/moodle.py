#!/usr/bin/env python3
"""A small simulated Moodle for Keyward's tests (no real Moodle installs from the registries here).

It answers like the real Moodle 4.3 captured in tests/data/moodle-4.3/: the same paths, the same
form fields, the same HTTP-200 JSON error bodies (taken from error_shapes.json), the same 303
redirects and cookies, and the same HTML -- the captured pages ARE the templates: only the main
region is generated, in the exact markup of the captured tables, and the secrets, port and
sesskeys are filled in. State (users, sessions, tokens, devices, keys) lives in memory.

Variants (command-line flags, or POST /__sim/config with a JSON object of the same names):
  version="4.3"|"4.1"|"4.2"|"5.x"
                        site info's release and version follow it. 4.1 and 4.2 show the security keys
                        page of Moodle before 4.3 (columns Key, Service, Valid until, Creator,
                        Operation: the token itself in clear, no names, no last access; from the facts
                        of a real 4.2 and webservice/renderer.php). 5.x adds the sessions page's
                        "Log out of all other sessions" button (core single_button, POST with
                        deleteall and sesskey, shown with more than one session; delete links carry
                        lastip) and the personal access tokens page. Neither is captured from a real
                        server: their markup follows Moodle's source and may differ from a real one.
  ws_off                the mobile web service is off (token.php answers servicenotavailable)
  sso_only              the login page has no password form, only identity providers
  mfa                   after the password, the site redirects to /admin/tool/mfa/auth.php
  policy                after the password, the site redirects to /user/policy.php
  unknown_layout        the sessions table has columns the provider does not know
  createtoken           the user may create tokens: the token table is shown on managetoken.php, and
                        opening it (no action) makes a token for every unrestricted service the user
                        has none for, as webservice::generate_user_ws_tokens() does in every version
  extra_service         a second unrestricted service ("Grades sync") exists besides the mobile one
  rss                   RSS feeds are on: managetoken.php shows the RSS key box
  push_server=false     no push server: get_user_devices answers systemnotconfigured
  remove_device=false   core_user_remove_user_device is not in the mobile service
  stale_sesskey         the pages' action links carry an outdated sesskey (Moodle then ignores
                        the action silently and shows the list again)
  fixture_clock         the clock starts at 2026-11-22 13:04:00 UTC, as in the captured pages
  limit_concurrent_logins=N
                        $CFG->limitconcurrentlogins: site info says so (with usersessionscount), and a
                        web login ends the user's oldest browser sessions beyond N
                        (\core\session\manager::apply_concurrent_login_limit)
  expired_answer="seen"|"plain"
                        how the first call with an expired token is answered before Moodle deletes
                        it (later calls: invalidtoken). "seen" (default): as on the real 4.2/4.4dev
                        sites of the facts file, errorcode accessexception with "Invalid token - token
                        expired" in the message. "plain": what webservice_access_exception gives
                        without developer debugging, the same body as a function outside the service.

Prints "PORT <n>" on stdout once listening. Test helpers, not Moodle:
  GET  /__sim/state     the state as JSON (for checks "on the server")
  POST /__sim/config    change variants
  POST /__sim/expire_web_sessions   ends every browser session (as a session timeout would)
  POST /__sim/add_token {"service","creator","validuntil"}   a web service token made by someone
  POST /__sim/drop_tokens            deletes every token (as an administrator could)
  POST /__sim/expire_tokens          every token's validuntil passes (as 12 weeks would)
  POST /__sim/set_password {"password"}   alice's password changes
  POST /__sim/add_session {"ip","ago"}    another browser session of alice's, from ip, ago seconds old
  POST /__sim/add_device {"name","model","platform","version"}   another push device of alice's
"""
import html
import json
import os
import random
import re
import secrets
import string
import sys
import threading
import time
import zoneinfo
import ipaddress
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse, urlencode

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "moodle-4.3")
CAPTURED_HOST = "127.0.0.1:18070"
ZONE = zoneinfo.ZoneInfo("Europe/London")  # the captured user's time zone (M.cfg.usertimezone)
MOBILE = "moodle_mobile_app"
MOBILE_NAME = "Moodle mobile web service"
EXTRA_SERVICE = "Grades sync"
# site info's release and version per simulated line (4.3: the capture's own).
RELEASES = {"4.1": ("4.1.6 (Build: 20231009)", "2022112806"), "4.2": ("4.2.3 (Build: 20231009)", "2023042403"),
            "4.3": ("4.3 (Build: 20231009)", "2023100900"), "5.x": ("5.2dev (Build: 20251205)", "2025120500.00")}
EXPIRED = {  # the first answer to an expired token (see the module doc)
    "seen": '{"exception":"moodle_exception","errorcode":"accessexception","message":"Invalid token - token expired - check validuntil time for the token"}',
    "plain": None,  # ERRORS["server.php function not in mobile service"], filled in below
}
TWELVE_WEEKS = 12 * 7 * 86400


def read(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return f.read()


ERRORS = {k: v["body"] for k, v in json.loads(read("error_shapes.json")).items()}
SITE_INFO = json.loads(read("site_info.json"))
EXPIRED["plain"] = ERRORS["server.php function not in mobile service"]


def split_main(page):
    """(before, main content, after) of a captured page, split at its main region."""
    marker = '<span id="maincontent"></span>'
    start = page.index(marker) + len(marker)
    end = page.rindex("</div>", start, page.index("</section>", start))
    return page[:start], page[start:end], page[end:]


TEMPLATES = {name: split_main(read(name + ".html")) for name in [
    "login_page", "login_wrong_password", "usersessions_two_sessions", "managetoken_with_createtoken_cap",
    "managetoken_default_no_createtoken_cap", "managetoken_reset_confirm", "managetoken_after_reset"]}


def rand(n, alphabet=string.ascii_letters + string.digits):
    return "".join(random.choice(alphabet) for _ in range(n))


def userdate(ts, weekday=True):
    """Moodle's English userdate(): strftimedaydatetime / strftimedatetime, leading zeros dropped."""
    d = datetime.fromtimestamp(ts, ZONE)
    hour = int(d.strftime("%I"))
    s = f"{d.day} {d.strftime('%B')} {d.year}, {hour}:{d.strftime('%M')} {d.strftime('%p')}"
    return f"{d.strftime('%A')}, {s}" if weekday else s


def ago(seconds):
    """report_usersessions_format_duration()."""
    if seconds < 60:
        return "now"
    if seconds < 7200:
        return f"{int(seconds / 60)} mins ago"
    return f"{int(seconds / 3600)} hours ago"


def stored_ip(ip):
    """cleanremoteaddr(): IPv6 as eight groups without leading zeros and without '::'."""
    a = ipaddress.ip_address(ip)
    if a.version == 4:
        return str(a)
    return ":".join(g.lstrip("0") or "0" for g in a.exploded.split(":"))


def format_ip(ip, www):
    """report_usersessions_format_ip(): IPv4 links to the IP lookup, IPv6 does not."""
    if ":" in ip:
        return ip
    return f'<a href="{www}/iplookup/index.php?ip={ip}">{ip}</a>'


class Sim:
    def __init__(self, config):
        self.lock = threading.RLock()
        self.config = {"version": "4.3", "push_server": True, "remove_device": True}
        self.config.update(config)
        self.started = time.time()
        self.clock0 = 1795352640 if self.config.get("fixture_clock") else int(self.started)
        self.users = {"alice": {"id": 3, "password": "alice-pass-1", "fullname": "Alice Lab"}}
        self.sessions = {}  # sid -> {id, userid, timecreated, timemodified, lastip, sesskey, logintoken, pending}
        self.next_session = 7
        self.tokens = {}  # id -> {token, name, service, userid, creatorid, validuntil, lastaccess, timecreated}
        self.next_token = 1
        self.devices = [dict(d) for d in json.loads(read("airnotifier_get_user_devices.json"))["devices"]]
        self.rsskey = rand(32, string.hexdigits.lower()[:16])
        self.pats = {}
        self.next_pat = 1
        self.logins = 0
        self.tokens_made_by_page = 0  # tokens created by merely opening managetoken.php
        self.ended_by_limit = []      # ids of browser sessions a login ended (concurrent-login limit)
        self.deleteall_used = 0       # times the 5.x "Log out of all other sessions" button was used
        # Another browser session of alice's (her laptop), active in the same minute.
        self.add_session(3, ip="127.0.0.1", created=self.now(), modified=self.now() + 30)
        if self.config.get("fixture_clock"):
            # The captured token: made by token.php a minute before the capture.
            self.add_token(3, MOBILE_NAME, name="Webservice-fD3eB", created=self.now() - 60,
                           validuntil=self.now() - 60 + TWELVE_WEEKS, lastaccess=self.now() - 60)
        if self.config.get("version") == "5.x":
            self.add_pat(3, "Grades export", "Nightly grade export script", "grades:read", self.now() + 30 * 86400)

    def now(self):
        return self.clock0 + int(time.time() - self.started)

    def version(self):
        return str(self.config.get("version") or "4.3")

    def limit(self):
        return int(self.config.get("limit_concurrent_logins") or 0)

    def apply_concurrent_login_limit(self, userid, sid):
        """\\core\\session\\manager::apply_concurrent_login_limit(): the newest sessions stay (the new
        one counted first), every older one beyond the limit is ended."""
        limit = self.limit()
        mine = [(k, v) for k, v in self.sessions.items() if v["userid"] == userid]
        if limit <= 0 or len(mine) <= limit:
            return
        others = sorted((kv for kv in mine if kv[0] != sid), key=lambda kv: (kv[1]["timecreated"], kv[1]["id"]), reverse=True)
        for k, v in others[limit - 1:]:
            self.ended_by_limit.append(v["id"])
            del self.sessions[k]

    def services(self):
        """Unrestricted services (external_services.restrictedusers = 0)."""
        return [MOBILE_NAME] + ([EXTRA_SERVICE] if self.config.get("extra_service") else [])

    def generate_user_ws_tokens(self, userid):
        """webservice::generate_user_ws_tokens(): a token for every unrestricted service the user has
        none for (only for users who may create tokens, which the caller checks)."""
        have = {t["service"] for t in self.tokens.values() if t["userid"] == userid}
        for service in self.services():
            if service not in have:
                self.add_token(userid, service)
                self.tokens_made_by_page += 1

    def add_session(self, userid, ip="127.0.0.1", created=None, modified=None):
        sid = rand(26, string.ascii_lowercase + string.digits)
        self.sessions[sid] = {"id": self.next_session, "userid": userid, "timecreated": created or self.now(),
                              "timemodified": modified or self.now(), "lastip": ip, "sesskey": rand(10),
                              "logintoken": rand(32), "pending": None}
        self.next_session += 1
        return sid

    def add_token(self, userid, service, name=None, created=None, validuntil=0, lastaccess=0, creator=None):
        tid = self.next_token
        self.next_token += 1
        self.tokens[tid] = {"id": tid, "token": secrets.token_hex(16), "name": name or "Webservice-" + rand(5),
                            "service": service, "userid": userid, "creatorid": creator or userid,
                            "validuntil": validuntil, "lastaccess": lastaccess, "timecreated": created or self.now()}
        return self.tokens[tid]

    def add_pat(self, userid, name, description, scopes, expires):
        pid = self.next_pat
        self.next_pat += 1
        self.pats[pid] = {"id": pid, "userid": userid, "name": name, "description": description, "scopes": scopes,
                          "expires": expires, "lastaccess": 0, "secret": f"pat_{pid}_{secrets.token_hex(12)}"}

    def token_of(self, value):
        """The token record with this value, valid or expired; None when there is none."""
        return next((t for t in self.tokens.values() if t["token"] == value), None)

    def expired(self, t):
        return bool(t["validuntil"]) and t["validuntil"] <= self.now()

    def state(self):
        return {"sessions": list(self.sessions.values()), "tokens": list(self.tokens.values()),
                "devices": self.devices, "rsskey": self.rsskey, "pats": list(self.pats.values()),
                "logins": self.logins, "config": self.config, "tokens_made_by_page": self.tokens_made_by_page,
                "ended_by_limit": self.ended_by_limit, "deleteall_used": self.deleteall_used}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sim: Sim = None

    def log_message(self, *args):
        pass

    # ---- plumbing ----

    def host(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def www(self):
        return f"http://{self.host()}"

    def send(self, status, body, ctype="text/html; charset=utf-8", headers=()):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store, no-cache, must-revalidate")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def json(self, obj_or_text, ctype="application/json"):
        body = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text, separators=(",", ":"))
        self.send(200, body, ctype)

    def redirect(self, location, headers=()):
        self.send(303, "", headers=[("Location", location), *headers])

    def params(self):
        q = {k: v[-1] for k, v in parse_qs(urlparse(self.path).query, keep_blank_values=True).items()}
        if self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n).decode("utf-8")
            if "json" in (self.headers.get("Content-Type") or ""):
                q["__json"] = raw
            else:
                q.update({k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()})
        return q

    def cookie_sid(self):
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == "MoodleSession":
                return v
        return None

    def session(self):
        """The browser session of this request, creating a guest one when there is none."""
        s = self.sim
        sid = self.cookie_sid()
        sess = s.sessions.get(sid)
        if sess and sess["userid"] and s.now() - sess["timemodified"] > 8 * 3600:
            del s.sessions[sid]
            sess = None
        if not sess:
            sid = s.add_session(0)
            sess = s.sessions[sid]
            self.new_cookie = sid
        return sid, sess

    def page(self, template, content, sess, status=200, body_id=None, headers=()):
        before, _, after = TEMPLATES[template]
        out = before + content + after
        out = out.replace(CAPTURED_HOST, self.host())
        out = re.sub(r"FAKESESSKEY_\d+", sess["sesskey"], out)
        out = re.sub(r"FAKELOGINTOKEN_\d+", sess["logintoken"], out)
        if body_id:
            out = re.sub(r'<body  id="[^"]*"', f'<body  id="{body_id}"', out, count=1)
        cookies = list(headers)
        if getattr(self, "new_cookie", None):
            cookies.append(("Set-Cookie", f"MoodleSession={self.new_cookie}; path=/; HttpOnly"))
        self.send(status, out, headers=cookies)

    def require_login(self):
        sid, sess = self.session()
        if not sess["userid"] or sess["pending"]:
            target = {"mfa": "/admin/tool/mfa/auth.php", "policy": "/user/policy.php"}.get(sess["pending"], "/login/index.php")
            extra = [("Set-Cookie", f"MoodleSession={sid}; path=/; HttpOnly")] if getattr(self, "new_cookie", None) else []
            self.redirect(self.www() + target, extra)
            return None, None
        if self.sim.now() - sess["timemodified"] >= 20:  # session_update_timemodified_frequency
            sess["timemodified"] = self.sim.now()
        return sid, sess

    # ---- routes ----

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def route(self):
        self.new_cookie = None
        path = urlparse(self.path).path
        with self.sim.lock:
            p = self.params()
            routes = {
                "/__sim/state": self.sim_state, "/__sim/config": self.sim_config,
                "/__sim/expire_web_sessions": self.sim_expire, "/__sim/add_token": self.sim_add_token,
                "/__sim/drop_tokens": self.sim_drop_tokens, "/__sim/expire_tokens": self.sim_expire_tokens,
                "/__sim/set_password": self.sim_set_password, "/__sim/add_session": self.sim_add_session,
                "/__sim/add_device": self.sim_add_device,
                "/login/token.php": self.token_php, "/webservice/rest/server.php": self.server_php,
                "/login/index.php": self.login, "/login/logout.php": self.logout, "/my/": self.dashboard,
                "/report/usersessions/user.php": self.usersessions, "/user/managetoken.php": self.managetoken,
                "/user/personalaccesstokens.php": self.pats,
            }
            handler = routes.get(path)
            if handler is None:
                return self.send(404, "<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>")
            handler(p)

    def sim_state(self, p):
        self.json(self.sim.state())

    def sim_config(self, p):
        self.sim.config.update(json.loads(p.get("__json") or "{}"))
        self.json(self.sim.config)

    def sim_expire(self, p):
        self.sim.sessions = {k: v for k, v in self.sim.sessions.items() if not v["userid"]}
        self.json({"ok": True})

    def sim_add_token(self, p):
        a = json.loads(p.get("__json") or "{}")
        t = self.sim.add_token(3, a.get("service", "Grades sync"), creator=a.get("creator", 3), validuntil=a.get("validuntil", 0))
        self.json(t)

    def sim_drop_tokens(self, p):
        self.sim.tokens = {}
        self.json({"ok": True})

    def sim_expire_tokens(self, p):
        for t in self.sim.tokens.values():
            t["validuntil"] = self.sim.now() - 1
        self.json({"ok": True})

    def sim_set_password(self, p):
        self.sim.users["alice"]["password"] = json.loads(p.get("__json") or "{}")["password"]
        self.json({"ok": True})

    def sim_add_session(self, p):
        a = json.loads(p.get("__json") or "{}")
        when = self.sim.now() - int(a.get("ago", 0))
        sid = self.sim.add_session(3, ip=stored_ip(a.get("ip", "127.0.0.1")), created=when, modified=when)
        self.json(self.sim.sessions[sid])

    def sim_add_device(self, p):
        a = json.loads(p.get("__json") or "{}")
        s = self.sim
        n = max([d["id"] for d in s.devices] + [0]) + 1
        d = {"id": n, "appid": "com.moodle.moodlemobile", "name": a.get("name", f"Device{n}"), "model": a.get("model", ""),
             "platform": a.get("platform", "ios"), "version": a.get("version", "17.4"), "pushid": f"FAKEPUSHID{n:04d}",
             "uuid": f"fake-uuid-{n:04d}", "enable": 1, "timecreated": s.now(), "timemodified": s.now()}
        s.devices.append(d)
        self.json(d)

    def token_php(self, p):
        s, c = self.sim, self.sim.config
        if "appsitecheck" in p and self.command == "GET":
            return self.json(ERRORS["token.php unknown service"] if c.get("ws_off") else {"appsitecheck": "ok"}, "application/json; charset=utf-8")
        for field in ("username", "password", "service"):
            if field not in p:
                body = ERRORS["token.php missing service"].replace("(service)", f"({field})")
                return self.json(body, "application/json; charset=utf-8")
        if c.get("ws_off") or p["service"] != MOBILE:
            return self.json(ERRORS["token.php unknown service"], "application/json; charset=utf-8")
        user = s.users.get(p["username"])
        if not user or user["password"] != p["password"] or c.get("sso_only"):
            return self.json(ERRORS["token.php wrong password"], "application/json; charset=utf-8")
        mine = [t for t in s.tokens.values() if t["userid"] == user["id"] and t["service"] == MOBILE_NAME
                and (not t["validuntil"] or t["validuntil"] > s.now())]
        tok = max(mine, key=lambda t: (t["timecreated"], t["id"])) if mine else \
            s.add_token(user["id"], MOBILE_NAME, validuntil=s.now() + TWELVE_WEEKS)
        self.json({"token": tok["token"], "privatetoken": None}, "application/json; charset=utf-8")

    def server_php(self, p):
        s, c = self.sim, self.sim.config
        tok = s.token_of(p.get("wstoken", ""))
        if p.get("moodlewsrestformat") != "json":
            return self.json(ERRORS["server.php invalid token (default xml)"], "application/xml; charset=utf-8")
        if not tok:
            return self.json(ERRORS["server.php invalid token (json)"])
        if s.expired(tok):
            # webservice::authenticate_by_token(): the expired token is deleted, then refused.
            del s.tokens[tok["id"]]
            return self.json(EXPIRED[c.get("expired_answer") or "seen"])
        fn = p.get("wsfunction", "")
        known = {f["name"] for f in SITE_INFO["functions"]}
        if fn not in known:
            return self.json(ERRORS["server.php unknown wsfunction"])
        allowed = known - ({"core_user_remove_user_device"} if not c.get("remove_device", True) else set())
        if fn not in allowed:
            return self.json(ERRORS["server.php function not in mobile service"])
        tok["lastaccess"] = s.now()
        userid = tok["userid"]
        if fn == "core_webservice_get_site_info":
            info = json.loads(json.dumps(SITE_INFO).replace(CAPTURED_HOST, self.host()))
            info["functions"] = [f for f in info["functions"] if f["name"] in allowed]
            info["release"], info["version"] = RELEASES[s.version()]
            # core_webservice_external::get_site_info(): the count only when the limit is on.
            info["limitconcurrentlogins"] = s.limit()
            if s.limit():
                info["usersessionscount"] = sum(1 for v in s.sessions.values() if v["userid"] == userid)
            return self.json(info)
        if fn == "message_airnotifier_get_user_devices":
            if "appid" not in p:
                return self.json(ERRORS["server.php missing required param"])
            if not c.get("push_server", True):
                return self.json({"devices": [], "warnings": [{"item": "airnotifier", "warningcode": "systemnotconfigured",
                                                                "message": "Mobile notifications are not configured"}]})
            return self.json({"devices": [d for d in s.devices if d["appid"] == p["appid"]], "warnings": []})
        if fn == "core_user_remove_user_device":
            if "uuid" not in p:
                return self.json(ERRORS["server.php missing required param"])
            match = [d for d in s.devices if d["uuid"] == p["uuid"] and (not p.get("appid") or d["appid"] == p["appid"])]
            if not match:
                body = json.loads(ERRORS["core_user_remove_user_device unknown uuid"])
                body["warnings"][0]["item"] = p["uuid"]
                return self.json(body)
            s.devices = [d for d in s.devices if d not in match]
            return self.json({"removed": True})
        return self.json(ERRORS["server.php function not in mobile service"])

    def login(self, p):
        s, c = self.sim, self.sim.config
        sid, sess = self.session()
        if "testsession" in p:
            return self.redirect(self.www() + "/my/")
        if self.command == "GET":
            return self.login_page(sess, wrong=False)
        if p.get("logintoken") != sess["logintoken"]:
            sess["logintoken"] = rand(32)
            return self.login_page(sess, wrong=True)
        user = s.users.get(p.get("username", ""))
        if not user or user["password"] != p.get("password") or c.get("sso_only"):
            sess["logintoken"] = rand(32)
            return self.login_page(sess, wrong=True)
        # complete_user_login(): a new session id for the signed-in user.
        del s.sessions[sid]
        new = s.add_session(user["id"], ip=stored_ip(self.client_address[0]))
        s.logins += 1
        s.apply_concurrent_login_limit(user["id"], new)
        pending = "mfa" if c.get("mfa") else "policy" if c.get("policy") else None
        s.sessions[new]["pending"] = pending
        cookies = [("Set-Cookie", f"MoodleSession={new}; path=/; HttpOnly"),
                   ("Set-Cookie", f"MOODLEID1_={rand(12)}; expires=Thu, 01-Jan-2037 00:00:00 GMT; path=/; HttpOnly")]
        target = {"mfa": "/admin/tool/mfa/auth.php", "policy": "/user/policy.php"}.get(pending, f"/login/index.php?testsession={user['id']}")
        self.redirect(self.www() + target, cookies)

    def login_page(self, sess, wrong):
        template = "login_wrong_password" if wrong else "login_page"
        _, content, _ = TEMPLATES[template]
        if self.sim.config.get("sso_only"):
            content = re.sub(r'<form class="login-form".*?</form>', '<div class="login-identityproviders">\n'
                             '<h2 class="login-heading">Log in using your account on:</h2>\n'
                             f'<a class="btn login-identityprovider-btn btn-block" href="{self.www()}/auth/oauth2/login.php?id=1&amp;wantsurl=%2F&amp;sesskey={sess["sesskey"]}">Example SSO</a>\n'
                             '</div>', content, flags=re.S)
        self.page(template, content, sess)

    def logout(self, p):
        sid, sess = self.session()
        if sess["userid"] and p.get("sesskey") == sess["sesskey"]:
            del self.sim.sessions[sid]
        self.redirect(self.www() + "/")

    def dashboard(self, p):
        sid, sess = self.require_login()
        if sess:
            self.page("managetoken_default_no_createtoken_cap", "", sess, body_id="page-my-index")

    def usersessions(self, p):
        s = self.sim
        sid, sess = self.require_login()
        if not sess:
            return
        ok = p.get("sesskey") == sess["sesskey"]
        if p.get("delete") and ok:
            target = next((k for k, v in s.sessions.items() if str(v["id"]) == p["delete"] and v["userid"] == sess["userid"]), None)
            if target and target != sid:
                del s.sessions[target]
            return self.redirect(self.www() + "/report/usersessions/user.php")
        if p.get("deleteall") and ok and s.version() == "5.x":
            s.sessions = {k: v for k, v in s.sessions.items() if v["userid"] != sess["userid"] or k == sid}
            s.deleteall_used += 1
            return self.redirect(self.www() + "/report/usersessions/user.php")
        self.page("usersessions_two_sessions", self.sessions_table(sid, sess), sess)

    def sessions_table(self, sid, sess):
        s, www = self.sim, self.www()
        key = "0utdated00" if s.config.get("stale_sesskey") else sess["sesskey"]
        mine = sorted(((k, v) for k, v in s.sessions.items() if v["userid"] == sess["userid"]),
                      key=lambda kv: (-kv[1]["timemodified"], kv[1]["id"]))
        heads = ["Log in", "Last access", "Last IP address", "Action"]
        if s.config.get("unknown_layout"):
            heads = ["Signed in", "Seen", "From", ""]
        rows = []
        for i, (k, v) in enumerate(mine):
            if k == sid:
                last, action = "Current session", ""
            else:
                last = ago(s.now() - v["timemodified"])
                lastip = f'&amp;lastip={v["lastip"]}' if s.version() == "5.x" else ""
                action = f'<a href="{www}/report/usersessions/user.php?delete={v["id"]}&amp;sesskey={key}{lastip}">Log out</a>'
            ip = format_ip(v["lastip"], www)
            cls = "lastrow" if i == len(mine) - 1 else ""
            rows.append(f'<tr class="{cls}">\n'
                        f'<td class="cell c0" style="text-align:left;">{userdate(v["timecreated"])}</td>\n'
                        f'<td class="cell c1" style="text-align:left;">{last}</td>\n'
                        f'<td class="cell c2" style="text-align:left;">{ip}</td>\n'
                        f'<td class="cell c3 lastcol" style="text-align:right;">{action}</td>\n</tr>\n')
        out = ('<h2>My active sessions</h2><div class="table-responsive"><table class="generaltable">\n<thead>\n<tr>\n'
               f'<th class="header c0" style="text-align:left;" scope="col">{heads[0]}</th>\n'
               f'<th class="header c1" style="text-align:left;" scope="col">{heads[1]}</th>\n'
               f'<th class="header c2" style="text-align:left;" scope="col">{heads[2]}</th>\n'
               f'<th class="header c3 lastcol" style="text-align:right;" scope="col">{heads[3]}</th>\n'
               '</tr>\n</thead>\n<tbody>' + "".join(rows) + '</tbody>\n</table>\n</div>')
        if s.version() == "5.x" and len(mine) > 1:
            # $OUTPUT->single_button(new url($PAGE->url, ['deleteall' => true]), ...): a POST form.
            out += ('<div class="singlebutton">\n'
                    f'    <form method="post" action="{www}/report/usersessions/user.php" >\n'
                    '            <input type="hidden" name="deleteall" value="1">\n'
                    f'        <input type="hidden" name="sesskey" value="{key}">\n'
                    '        <button type="submit" class="btn btn-secondary" id="single_button1" title="" >'
                    'Log out of all other sessions</button>\n    </form>\n</div>')
        return out

    def managetoken(self, p):
        s, c = self.sim, self.sim.config
        sid, sess = self.require_login()
        if not sess:
            return
        action, confirm, ok = p.get("action"), p.get("confirm") == "1", p.get("sesskey") == sess["sesskey"]
        if action == "resetwstoken" and c.get("createtoken"):
            tok = s.tokens.get(int(p.get("tokenid", "0") or 0))
            if not tok or tok["creatorid"] != sess["userid"]:
                return self.send(404, "<!DOCTYPE html><html><body>Invalid record</body></html>")
            if not confirm:
                return self.page("managetoken_reset_confirm", self.reset_confirm(tok, sess), sess)
            if confirm and ok and self.command == "POST":
                del s.tokens[tok["id"]]
                new = s.add_token(sess["userid"], tok["service"])
                before, _, after = TEMPLATES["managetoken_after_reset"]
                box = TEMPLATES["managetoken_after_reset"][1]
                box = box[:box.index('<h3 id="1"')].replace("Webservice-MJXee", new["name"]).replace("FAKETOKEN02fffffffffffffffffffff", new["token"])
                return self.page("managetoken_after_reset", box + self.keys_boxes(sess), sess)
        if action == "resetrsstoken" and c.get("rss"):
            if not confirm:
                return self.page("managetoken_reset_confirm", self.rss_confirm(sess), sess)
            if ok and self.command == "POST":
                s.rsskey = rand(32, "0123456789abcdef")
        if c.get("createtoken"):
            # user/managetoken.php, every version: no confirmation screen shown, so the tokens
            # "that need to be generated" are made before the table is drawn.
            s.generate_user_ws_tokens(sess["userid"])
        template = "managetoken_with_createtoken_cap" if c.get("createtoken") else "managetoken_default_no_createtoken_cap"
        self.page(template, self.keys_boxes(sess), sess)

    def keys_boxes(self, sess):
        s, www = self.sim, self.www()
        out = ""
        if s.config.get("createtoken"):
            mine = [t for t in s.tokens.values() if t["userid"] == sess["userid"]]
            before_4_3 = s.version() in ("4.1", "4.2")
            rows = []
            for i, t in enumerate(mine):
                creator = s.users["alice"]["fullname"] if t["creatorid"] == sess["userid"] else "Admin User"
                reset = (f'<a href="{www}/user/managetoken.php?action=resetwstoken&amp;tokenid={t["id"]}">Reset</a>'
                         if t["creatorid"] == sess["userid"] else "")
                cls = "lastrow" if i == len(mine) - 1 else ""
                valid = userdate(t["validuntil"], False) if t["validuntil"] else ""
                creator_cell = f'<a href="{www}/user/view.php?id={t["creatorid"]}">{creator}</a>'
                if before_4_3:
                    # Before 4.3 the first column is the token itself, in clear.
                    cells = [t["token"], t["service"], valid, creator_cell, reset]
                else:
                    cells = [html.escape(t["name"]), t["service"], valid,
                             userdate(t["lastaccess"], False) if t["lastaccess"] else "", creator_cell, reset]
                rows.append(f'<tr class="{cls}">\n' + self.cells(cells) + '</tr>\n')
            out += ('<h3 id="1" class="main">Security keys</h3><div class="box py-3 generalbox webservicestokenui">'
                    'The keys are used to access your Moodle account from external applications.')
            if rows:
                heads = (["Key", "Service", "Valid until", "Creator", "Operation"] if before_4_3
                         else ["Name", "Service", "Valid until", "Last access", "Creator", "Operation"])
                out += ('<div class="table-responsive"><table class="generaltable" width="100%">\n<thead>\n<tr>\n'
                        + self.cells(heads, tag="th") + '</tr>\n</thead>\n<tbody>' + "".join(rows) + '</tbody>\n</table>\n</div>')
            else:
                out += "No tokens"
            out += "</div>"
        if s.config.get("rss"):
            # core_rss_renderer::user_rss_token_box() (not captured: RSS was off on the real site).
            out += ('<h3 id="2" class="main">RSS</h3><div class="box py-3 generalbox webservicestokenui">'
                    'This RSS key is used to access your feeds.<div class="table-responsive"><table class="generaltable" width="100%">\n<thead>\n<tr>\n'
                    '<th class="header c0" style="text-align:left;" scope="col">Key</th>\n'
                    '<th class="header c1 lastcol" style="text-align:center;" scope="col">Operation</th>\n'
                    '</tr>\n</thead>\n<tbody><tr class="lastrow">\n'
                    f'<td class="cell c0" style="text-align:left;">{s.rsskey}</td>\n'
                    f'<td class="cell c1 lastcol" style="text-align:center;"><a href="{www}/user/managetoken.php?sesskey={sess["sesskey"]}&amp;action=resetrsstoken">Reset</a></td>\n'
                    '</tr>\n</tbody>\n</table>\n</div></div>')
        return out

    @staticmethod
    def cells(values, tag="td"):
        """html_table cells as Moodle writes them in the token table (alignments as captured)."""
        align = {"Last access": "center", "Creator": "center"}
        n, out = len(values), ""
        heads = ["Name", "Service", "Valid until", "Last access", "Creator", "Operation"] if n == 6 else \
            ["Key", "Service", "Valid until", "Creator", "Operation"]
        for j, v in enumerate(values):
            cls = ("header" if tag == "th" else "cell") + f" c{j}" + (" lastcol" if j == n - 1 else "")
            scope = ' scope="col"' if tag == "th" else ""
            out += f'<{tag} class="{cls}" style="text-align:{align.get(heads[j], "left")};"{scope}>{v}</{tag}>\n'
        return out

    def reset_confirm(self, tok, sess):
        _, content, _ = TEMPLATES["managetoken_reset_confirm"]
        content = content.replace('name="tokenid" value="1"', f'name="tokenid" value="{tok["id"]}"')
        return content.replace("Moodle mobile web service</strong>", f"{tok['service']}</strong>")

    def rss_confirm(self, sess):
        _, content, _ = TEMPLATES["managetoken_reset_confirm"]
        content = re.sub(r'<p>Do you really.*?</p>', '<p>Do you really want to reset this key?</p>', content, flags=re.S)
        content = content.replace('            <input type="hidden" name="tokenid" value="1">\n', "")
        return content.replace('name="action" value="resetwstoken"', 'name="action" value="resetrsstoken"')

    def pats(self, p):
        s = self.sim
        if s.config.get("version") != "5.x":
            return self.send(404, "<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>")
        sid, sess = self.require_login()
        if not sess:
            return
        if self.command == "POST" and p.get("action") == "revoke" and p.get("sesskey") == sess["sesskey"]:
            s.pats.pop(int(p.get("id", "0") or 0), None)
            return self.redirect(self.www() + "/user/personalaccesstokens.php")
        # Not captured from a real server (see the module doc): html_table markup, one POST form per row.
        rows = []
        mine = [t for t in s.pats.values() if t["userid"] == sess["userid"]]
        for i, t in enumerate(mine):
            form = (f'<form method="post" action="{self.www()}/user/personalaccesstokens.php">'
                    f'<input type="hidden" name="action" value="revoke"><input type="hidden" name="id" value="{t["id"]}">'
                    f'<input type="hidden" name="sesskey" value="{sess["sesskey"]}"><button type="submit" class="btn btn-link">Revoke</button></form>')
            cells = [html.escape(t["name"]), html.escape(t["description"]), t["scopes"],
                     userdate(t["expires"], False) if t["expires"] else "Never",
                     userdate(t["lastaccess"], False) if t["lastaccess"] else "Never", form]
            tds = "".join(f'<td class="cell c{j}{" lastcol" if j == 5 else ""}" style="text-align:left;">{c}</td>\n' for j, c in enumerate(cells))
            rows.append(f'<tr class="{"lastrow" if i == len(mine) - 1 else ""}">\n{tds}</tr>\n')
        heads = ["Name", "Description", "Scopes", "Expires", "Last accessed", "Actions"]
        ths = "".join(f'<th class="header c{j}{" lastcol" if j == 5 else ""}" style="text-align:left;" scope="col">{h}</th>\n' for j, h in enumerate(heads))
        content = ('<h2>Personal access tokens</h2><div class="table-responsive"><table class="generaltable">\n<thead>\n<tr>\n'
                   + ths + '</tr>\n</thead>\n<tbody>' + "".join(rows) + '</tbody>\n</table>\n</div>')
        self.page("managetoken_default_no_createtoken_cap", content, sess, body_id="page-user-personalaccesstokens")


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A test's client that goes away mid keep-alive is not an error of the simulated site.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def main():
    config = {}
    for arg in sys.argv[1:]:
        k, _, v = arg.lstrip("-").partition("=")
        k = k.replace("-", "_")
        config[k] = {"": True, "true": True, "false": False}.get(v, v)
    Handler.sim = Sim(config)
    server = Server(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
