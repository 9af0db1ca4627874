#!/usr/bin/env python3
"""A small simulated Hypothesis (h) for Keyward's tests (h cannot be installed from the registries here).

No pages of a real h are captured, so this follows the facts in shared/reference/phorge-hypothesis.md,
above all its last section, "Hypothesis as a real h (commit 24395ca, 2026-07) answered", which wins
over the rest of that file and over the h source where they differ. What it answers, and which fact:

  GET  /api/               the links document {"links": {...}} (nested {method, url, desc}); with an
                           Accept of application/vnd.hypothesis.v1+json or v2+json the answer carries
                           Hypothesis-Media-Type.
  GET  /api/profile        200 always. A valid bearer token of a live user: userid "acct:NAME@AUTHORITY",
                           user_info {display_name}. No token, a bad or expired token, or the token of a
                           user h has marked deleted: 200 with "userid": null and "user_info": null (the
                           trap: HTTP 200 is not a sign-in).
  GET  /api/debug-token    a valid token: {"userid", "expires_at" (null for a developer token),
                           "issued_at", "expired": false}, plus "client": {id, name} for an OAuth token;
                           none or bad: 401 {"error": "missing_token", "error_description": ...}. It checks
                           the token only, not its user (as h's view does): a deleted user's token still
                           answers 200 here while /api/profile says userid null.
  GET  /login              200, no hidden inputs: the CSRF token is "csrfToken" in
                           <script type="application/json" class="js-config">; sets the "session" cookie.
  POST /login              username (or e-mail), password, csrf_token. Right: 302 to /users/NAME with the
                           cookies auth (Max-Age one year; the server-side ticket lasts 90 days),
                           h_api_authcookie.v2 and session. Wrong password: 200 with
                           "errors": {"password": "Wrong password."} in the js-config; unknown user:
                           "errors": {"username": "User does not exist."}. No or a wrong CSRF token: 403.
  GET  /account/developer  without the login cookie: 404 (not a redirect). With it: 200 with
                           "token": "6879-..." in the js-config, absent when the user has none.
  POST /account/developer  NO CSRF check (as real h): creates the token, or regenerates it in place (the
                           old value then gets 401; the token keeps its issue date, as h changes only the
                           value).
  POST /oauth/revoke       form token=. An OAuth access or refresh token: 200 {} and the token pair is
                           gone; an unknown token: 401 {"status":"failure","reason":"{\"error\":
                           \"invalid_client\"}"}; none: 400 invalid_request; a developer token: HTTP 500
                           (a bug in h). Every call is recorded in the state as "revoke_calls".
  GET/POST /oauth/authorize  consent page for the untrusted client; its POST (no CSRF) answers 302 to the
                           callback with ?code=...&state=... . POST /api/token (authorization_code and
                           refresh_token grants): {"access_token": "5768-...", "expires_in": 3600.0,
                           "token_type": "Bearer", "scope": "annotation:read annotation:write",
                           "refresh_token": "4657-..."}; after a refresh the old access token stays valid
                           until its own expiry and the old refresh token's expiry is cut to 3 minutes.
  GET  /logout             302 to /, the cookies cleared and the ticket gone: /account/developer is 404.
  Errors elsewhere are {"status": "failure", "reason": ...}.

Variants (command-line flags, or POST /__sim/config with a JSON object of the same names):
  no_developer_token     alice has no developer token at the start
  regenerate_keeps_old   NOT real h: a regenerate makes a new token but leaves the old value working too,
                         for the test that Keyward checks the old one is dead before it says "done"

Prints "PORT <n>" on stdout once listening. Test helpers, not h:
  GET  /__sim/state            users, tokens (with values), tickets, revoke_calls, logins, config
  POST /__sim/config           change variants
  POST /__sim/expire_logins    ends every login ticket (as 90 days without use would)
  POST /__sim/delete_user      {"username"}: marks the user deleted, as h does before it purges a user
"""
import base64
import hashlib
import hmac
import html
import json
import secrets
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse, quote

AUTHORITY = "localhost"
DEVELOPER_PREFIX = "6879-"
ACCESS_PREFIX = "5768-"
REFRESH_PREFIX = "4657-"
ACCESS_TTL = 3600
REFRESH_TTL = 7 * 86400
TICKET_TTL = 90 * 86400
AUTH_MAX_AGE = 365 * 86400
API_AUTH_MAX_AGE = AUTH_MAX_AGE + 3600
CLIENT_ID = "2f0a5d6e-3c1b-4e7a-9d2f-6b8c1e0a4f53"
CLIENT_NAME = "Annotation Exporter"
CLIENT_REDIRECT = "http://127.0.0.1:9/callback"
NOT_FOUND_API = "Either the resource you requested doesn't exist, or you are not currently authorized to see it."

SECRETS = {name: secrets.token_bytes(32) for name in ("auth", "api", "session")}


def token_urlsafe():
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


def iso(ts):
    """h's utc_iso8601(): microseconds and an explicit +00:00."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def cookie_date(ts):
    """webob's cookie `expires` format."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%a, %d-%b-%Y %H:%M:%S GMT")


def sign(kind, value):
    """A signed cookie value like webob's SignedSerializer: base64url(hmac-sha512 + JSON)."""
    payload = json.dumps(value, separators=(",", ":")).encode()
    sig = hmac.new(SECRETS[kind], payload, hashlib.sha512).digest()
    return base64.urlsafe_b64encode(sig + payload).rstrip(b"=").decode("ascii")


def unsign(kind, text):
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        return None
    sig, payload = raw[:64], raw[64:]
    if not hmac.compare_digest(sig, hmac.new(SECRETS[kind], payload, hashlib.sha512).digest()):
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return None


def links_document(www):
    def link(method, path, desc):
        return {"method": method, "url": www + path, "desc": desc}

    return {"links": {
        "analytics": {"events": {"create": link("POST", "/api/analytics/events", None)}},
        "annotation": {
            "create": link("POST", "/api/annotations", "Create an annotation"),
            "delete": link("DELETE", "/api/annotations/:id", "Delete an annotation"),
            "flag": link("PUT", "/api/annotations/:id/flag", "Flag an annotation for review"),
            "hide": link("PUT", "/api/annotations/:id/hide", "Hide an annotation as a group moderator"),
            "read": link("GET", "/api/annotations/:id", "Fetch an annotation"),
            "unhide": link("DELETE", "/api/annotations/:id/hide", "Unhide an annotation as a group moderator"),
            "update": link("PATCH", "/api/annotations/:id", "Update an annotation"),
        },
        "group": {
            "annotations": {"read": link("GET", "/api/groups/:pubid/annotations", "Fetch a list of all annotations of a group")},
            "create": link("POST", "/api/groups", "Create a new group"),
            "member": {
                "add": link("POST", "/api/groups/:pubid/members/:userid", "Add a user to a group"),
                "delete": link("DELETE", "/api/groups/:pubid/members/:userid", "Remove a user from a group"),
                "edit": link("PATCH", "/api/groups/:pubid/members/:userid", "Change a user's role in a group"),
                "read": link("GET", "/api/groups/:pubid/members/:userid", "Fetch a group membership"),
            },
            "read": link("GET", "/api/groups/:id", "Fetch a group"),
            "update": link("PATCH", "/api/groups/:id", "Update a group"),
        },
        "groups": {"read": link("GET", "/api/groups", "Fetch the user's groups")},
        "links": link("GET", "/api/links", "URL templates for generating URLs for HTML pages"),
        "profile": {
            "groups": {"read": link("GET", "/api/profile/groups", "Fetch the current user's groups")},
            "read": link("GET", "/api/profile", "Fetch the user's profile"),
            "update": link("PATCH", "/api/profile", "Update a user's preferences"),
        },
        "search": link("GET", "/api/search", "Search for annotations"),
        "user": {
            "create": link("POST", "/api/users", "Create a new user"),
            "read": link("GET", "/api/users/:userid", "Fetch a user"),
            "update": link("PATCH", "/api/users/:username", "Update a user"),
        },
    }}


def page(title, body, www):
    """h's base layout, reduced to what matters: stylesheets, the header script, main, the scripts."""
    return ("<!DOCTYPE html>\n<html lang=\"en\" prefix=\"og: http://ogp.me/ns#\">\n  <head>\n"
            "      <meta charset=\"UTF-8\" />\n      <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\" />\n"
            f"    <title>{title + ' | ' if title else ''}Hypothesis</title>\n"
            "      <link rel=\"stylesheet\" href=\"/assets/styles/site.css?a1b2c3\">\n"
            "    <link rel=\"shortcut icon\" href=\"/assets/images/favicons/favicon.ico?a1b2c3\">\n"
            "    <script type=\"importmap\">{\"imports\": {}}</script>\n"
            "    <script type=\"module\" src=\"/assets/scripts/header.bundle.js?a1b2c3\"></script>\n"
            "  </head>\n  <body class=\"body\">\n    <main>\n" + body + "\n    </main>\n"
            "    <script type=\"module\" src=\"/assets/scripts/site.bundle.js?a1b2c3\"></script>\n"
            "  </body>\n</html>\n")


def tojson(value):
    """Jinja's |tojson: JSON with <, >, & and ' escaped for a script element."""
    s = json.dumps(value, sort_keys=True)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")


def js_app(config):
    return (f"<script type=\"application/json\" class=\"js-config\">{tojson(config)}</script>\n"
            "<div id=\"js-app-container\"></div>")


class Sim:
    def __init__(self, config):
        self.lock = threading.RLock()
        self.config = dict(config)
        self.users = {
            "alice": {"username": "alice", "email": "alice@example.org", "password": "alice-pass-1",
                      "display_name": "Alice Annotator", "deleted": False},
            "bob": {"username": "bob", "email": "bob@example.org", "password": "bob-pass-1",
                    "display_name": "Bob", "deleted": False},
        }
        self.tokens = []  # {value, userid, created, expires, client, refresh_token, refresh_expires}
        self.tickets = {}  # id -> {userid, expires}
        self.codes = {}  # code -> {client, userid, expires}
        self.revoke_calls = []
        self.logins = 0
        now = time.time()
        if not self.config.get("no_developer_token"):
            self.add_developer_token("acct:alice@" + AUTHORITY, created=now - 40 * 86400)
        self.add_developer_token("acct:bob@" + AUTHORITY, created=now - 3 * 86400)

    # ---- tokens ----

    def add_developer_token(self, userid, created=None):
        t = {"value": DEVELOPER_PREFIX + token_urlsafe(), "userid": userid, "created": created or time.time(),
             "expires": None, "client": None, "refresh_token": None, "refresh_expires": None}
        self.tokens.append(t)
        return t

    def developer_token(self, userid):
        mine = [t for t in self.tokens if t["userid"] == userid and t["client"] is None]
        return max(mine, key=lambda t: t["created"]) if mine else None

    def valid_token(self, value):
        """auth_token.validate(): the token exists and has not expired (its user is not checked)."""
        for t in self.tokens:
            if value and hmac.compare_digest(t["value"], value):
                if t["expires"] is None or t["expires"] > time.time():
                    return t
        return None

    def user_of(self, userid):
        name = userid[len("acct:"):].split("@")[0] if userid and userid.startswith("acct:") else None
        return self.users.get(name)

    def issue_oauth(self, userid, client):
        now = time.time()
        t = {"value": ACCESS_PREFIX + token_urlsafe(), "userid": userid, "created": now, "expires": now + ACCESS_TTL,
             "client": client, "refresh_token": REFRESH_PREFIX + token_urlsafe(), "refresh_expires": now + REFRESH_TTL}
        self.tokens.append(t)
        return t

    # ---- login tickets ----

    def valid_ticket(self, cookie_value, kind):
        v = unsign(kind, cookie_value or "")
        if not isinstance(v, list) or len(v) != 2:
            return None
        userid, ticket = v
        t = self.tickets.get(ticket)
        if not t or t["userid"] != userid or t["expires"] <= time.time():
            return None
        user = self.user_of(userid)
        if not user or user["deleted"]:
            return None
        # verify_ticket() slides the expiry.
        t["expires"] = time.time() + TICKET_TTL
        return ticket

    def state(self):
        return {"users": self.users, "tokens": self.tokens, "tickets": self.tickets,
                "revoke_calls": self.revoke_calls, "logins": self.logins, "config": self.config}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sim: Sim = None

    def log_message(self, *args):
        pass

    # ---- plumbing ----

    def www(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def send(self, status, body, ctype="text/html; charset=UTF-8", headers=()):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def json(self, obj, status=200, headers=()):
        self.send(status, json.dumps(obj), "application/json", headers)

    def failure(self, status, reason):
        self.json({"status": "failure", "reason": reason}, status)

    def redirect(self, location, headers=()):
        self.send(302, "", headers=[("Location", location), *headers])

    def not_found_page(self):
        body = ("  <div class=\"form-container\">\n    <h1 class=\"form-header\">Page not found</h1>\n"
                "    <p>Either this page does not exist, or you do not have the permissions required for viewing it.</p>\n  </div>")
        self.send(404, page("", body, self.www()).replace("<title>Hypothesis", "<title>Page Not Found"))

    def params(self):
        q = {k: v[-1] for k, v in parse_qs(urlparse(self.path).query, keep_blank_values=True).items()}
        self.query = dict(q)
        if self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n).decode("utf-8") if n else ""
            if "json" in (self.headers.get("Content-Type") or ""):
                q["__json"] = raw
            else:
                q.update({k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()})
        return q

    def cookies(self):
        out = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k:
                out[k] = v
        return out

    def bearer(self):
        h = self.headers.get("Authorization") or ""
        if not h.startswith("Bearer "):
            return None
        return h[len("Bearer "):].strip() or None

    def logged_in(self):
        """The userid of the `auth` cookie's live ticket, or None (h's CookiePolicy)."""
        c = self.cookies().get("auth")
        ticket = self.sim.valid_ticket(c, "auth") if c else None
        return self.sim.tickets[ticket]["userid"] if ticket else None

    def session(self):
        """The signed session cookie's data (Pyramid's SignedCookieSessionFactory)."""
        v = unsign("session", self.cookies().get("session", ""))
        return v if isinstance(v, dict) else None

    def session_cookie(self, data):
        return ("Set-Cookie", f"session={sign('session', data)}; Path=/; HttpOnly")

    def login_cookies(self, userid):
        ticket = secrets.token_urlsafe(32)
        self.sim.tickets[ticket] = {"userid": userid, "expires": time.time() + TICKET_TTL}
        now = time.time()
        return [
            ("Set-Cookie", f"auth={sign('auth', [userid, ticket])}; Max-Age={AUTH_MAX_AGE}; Path=/; "
                           f"expires={cookie_date(now + AUTH_MAX_AGE)}; HttpOnly"),
            ("Set-Cookie", f"h_api_authcookie.v2={sign('api', [userid, ticket])}; Max-Age={API_AUTH_MAX_AGE}; Path=/; "
                           f"expires={cookie_date(now + API_AUTH_MAX_AGE)}; HttpOnly; SameSite=Strict"),
            self.session_cookie({"_csrft_": uuid.uuid4().hex}),
        ]

    @staticmethod
    def cleared_cookies():
        gone = "Max-Age=0; Path=/; expires=Wed, 31-Dec-97 23:59:59 GMT"
        return [("Set-Cookie", f"auth=; {gone}; HttpOnly"),
                ("Set-Cookie", f"h_api_authcookie.v2=; {gone}; HttpOnly; SameSite=Strict"),
                ("Set-Cookie", f"session=; {gone}; HttpOnly")]

    # ---- routes ----

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def route(self):
        path = urlparse(self.path).path
        with self.sim.lock:
            p = self.params()
            routes = {
                ("GET", "/__sim/state"): lambda: self.json(self.sim.state()),
                ("POST", "/__sim/config"): self.sim_config,
                ("POST", "/__sim/expire_logins"): self.sim_expire_logins,
                ("POST", "/__sim/delete_user"): self.sim_delete_user,
                ("GET", "/"): self.home,
                ("GET", "/api/"): self.api_index,
                ("GET", "/api/profile"): self.api_profile,
                ("GET", "/api/debug-token"): self.api_debug_token,
                ("POST", "/api/token"): self.api_token,
                ("GET", "/login"): self.login_get,
                ("POST", "/login"): self.login_post,
                ("GET", "/logout"): self.logout,
                ("GET", "/account/developer"): self.developer,
                ("POST", "/account/developer"): self.developer,
                ("GET", "/account"): self.account,
                ("GET", "/oauth/authorize"): self.authorize,
                ("POST", "/oauth/authorize"): self.authorize,
                ("POST", "/oauth/revoke"): self.oauth_revoke,
            }
            self.p = p
            handler = routes.get((self.command, path))
            if handler:
                return handler()
            if self.command == "GET" and path.startswith("/users/") and path.count("/") == 2:
                return self.user_page(path.split("/")[2])
            if path.startswith("/api/"):
                return self.failure(404, NOT_FOUND_API)
            self.not_found_page()

    # ---- test helpers ----

    def sim_config(self):
        self.sim.config.update(json.loads(self.p.get("__json") or "{}"))
        self.json(self.sim.config)

    def sim_expire_logins(self):
        self.sim.tickets = {}
        self.json({"ok": True})

    def sim_delete_user(self):
        name = json.loads(self.p.get("__json") or "{}").get("username")
        self.sim.users[name]["deleted"] = True
        self.json({"ok": True})

    # ---- the API ----

    def version_headers(self):
        accept = self.headers.get("Accept") or ""
        for v in ("application/vnd.hypothesis.v2+json", "application/vnd.hypothesis.v1+json"):
            if v in accept:
                return [("Hypothesis-Media-Type", v)]
        return []

    def api_index(self):
        self.json(links_document(self.www()), headers=self.version_headers())

    def api_user(self):
        """The user of the bearer token, as h's BearerTokenPolicy finds it: None for a deleted user."""
        t = self.sim.valid_token(self.bearer())
        if not t:
            return None, None
        user = self.sim.user_of(t["userid"])
        if not user or user["deleted"]:
            return None, None
        return t["userid"], user

    def api_profile(self):
        userid, user = self.api_user()
        public = [{"name": "Public", "id": "__world__", "public": True}]
        body = {"userid": userid, "authority": AUTHORITY, "groups": public,
                "features": {"client_display_names": True, "embed_cachebuster": False},
                "preferences": {"show_sidebar_tutorial": True} if user else {},
                "user_info": {"display_name": user["display_name"]} if user else None}
        self.json(body, headers=self.version_headers())

    def api_debug_token(self):
        raw = self.bearer()
        if not raw:
            return self.json({"error": "missing_token", "error_description": "Bearer token is missing in Authorization HTTP header"}, 401)
        t = self.sim.valid_token(raw)
        if not t:
            return self.json({"error": "missing_token", "error_description": "Bearer token does not exist or is expired"}, 401)
        body = {"userid": t["userid"], "expires_at": iso(t["expires"]) if t["expires"] else None,
                "issued_at": iso(t["created"]), "expired": False}
        if t["client"]:
            body["client"] = {"id": t["client"], "name": CLIENT_NAME}
        self.json(body)

    def oauth_error(self, status, error, description=None):
        body = {"error": error}
        if description:
            body["error_description"] = description
        self.failure(status, json.dumps(body))

    def api_token(self):
        s, p = self.sim, self.p
        grant = p.get("grant_type")
        if grant == "authorization_code":
            code = s.codes.pop(p.get("code", ""), None)
            if not code or code["expires"] < time.time() or p.get("client_id") != code["client"]:
                return self.oauth_error(400, "invalid_grant")
            t = s.issue_oauth(code["userid"], code["client"])
        elif grant == "refresh_token":
            old = next((t for t in s.tokens if t["refresh_token"] and t["refresh_token"] == p.get("refresh_token")), None)
            if not old:
                return self.oauth_error(400, "invalid_refresh_token", "Invalid refresh_token.")
            if old["refresh_expires"] < time.time():
                return self.oauth_error(400, "invalid_grant")
            t = s.issue_oauth(old["userid"], old["client"])
            old["refresh_expires"] = min(old["refresh_expires"], time.time() + 180)
        else:
            return self.oauth_error(400, "unsupported_grant_type")
        self.json({"access_token": t["value"], "expires_in": float(ACCESS_TTL), "token_type": "Bearer",
                   "scope": "annotation:read annotation:write", "refresh_token": t["refresh_token"]})

    def oauth_revoke(self):
        s, value = self.sim, self.p.get("token")
        prefix = (value or "")[:5]
        if not value:
            s.revoke_calls.append({"prefix": None, "status": 400})
            return self.oauth_error(400, "invalid_request", "Missing token parameter.")
        tok = None
        if value.startswith(ACCESS_PREFIX):
            tok = next((t for t in s.tokens if t["value"] == value), None)
        elif value.startswith(REFRESH_PREFIX):
            tok = next((t for t in s.tokens if t["refresh_token"] == value), None)
        else:
            tok = next((t for t in s.tokens if t["value"] == value), None)
            if tok and tok["client"] is None:
                # h reads token.authclient.id of a developer token, which has none.
                s.revoke_calls.append({"prefix": prefix, "status": 500})
                return self.send(500, "<!DOCTYPE html>\n<html>\n  <head>\n      <title>Server Error</title>\n  </head>\n"
                                      "  <body>\n    <h1>Server Error</h1>\n  </body>\n</html>\n")
        if not tok:
            s.revoke_calls.append({"prefix": prefix, "status": 401})
            return self.oauth_error(401, "invalid_client")
        s.tokens.remove(tok)
        s.revoke_calls.append({"prefix": prefix, "status": 200})
        self.json({})

    # ---- web pages ----

    def home(self):
        self.send(200, page("", "<div class=\"content\"><h1>Annotate the web, with anyone, anywhere.</h1></div>", self.www()))

    def user_page(self, name):
        if name not in self.sim.users or self.sim.users[name]["deleted"]:
            return self.not_found_page()
        self.send(200, page(html.escape(name), f"<div class=\"search-result-list\"><h1>{html.escape(name)}</h1></div>", self.www()))

    def login_config(self, session):
        www = self.www()
        nxt = self.query.get("next")
        q = ("?" + urlencode({"next": nxt})) if nxt else ""
        return {"styles": ["/assets/styles/forms.css?a1b2c3"], "csrfToken": session["_csrft_"],
                "features": {"log_in_with_orcid": False, "log_in_with_google": False, "log_in_with_facebook": False},
                "flashMessages": [], "form": {"data": {"username": self.query.get("username")}},
                "urls": {"login": {"username_or_email": www + "/login" + q}, "signup": www + "/signup" + q}}

    def login_page(self, session, config, headers=()):
        body = "  <div class=\"form-container\">\n    " + js_app(config) + "\n  </div>"
        self.send(200, page("Log in", body, self.www()), headers=headers)

    def login_redirect(self, userid):
        nxt = self.query.get("next")
        return nxt or f"{self.www()}/users/{quote(userid[len('acct:'):].split('@')[0])}"

    def login_get(self):
        userid = self.logged_in()
        if userid:
            return self.redirect(self.login_redirect(userid))
        session, headers = self.session(), []
        if not session or "_csrft_" not in session:
            session = {"_csrft_": uuid.uuid4().hex}
            headers.append(self.session_cookie(session))
        self.login_page(session, self.login_config(session), headers)

    def csrf_refused(self):
        body = ("Sorry, but your session has expired.\nPlease <a href=\"/login?next=%2F\">go back</a> and try again.")
        self.send(403, page("Invalid Session", body, self.www()))

    def login_post(self):
        s, p = self.sim, self.p
        userid = self.logged_in()
        if userid:
            return self.redirect(self.login_redirect(userid))
        session = self.session()
        token = p.get("csrf_token") or self.headers.get("X-CSRF-Token")
        if not session or not token or not hmac.compare_digest(session.get("_csrft_", ""), token):
            return self.csrf_refused()
        login = (p.get("username") or "").strip()
        user = s.users.get(login) or next((u for u in s.users.values() if u["email"].lower() == login.lower()), None)
        errors = None
        if user is None or user["deleted"]:
            errors = {"username": "User does not exist."}
        elif not hmac.compare_digest(user["password"], p.get("password", "")):
            errors = {"password": "Wrong password."}
        if errors:
            config = self.login_config(session)
            config["form"] = {"errors": errors, "data": {"username": p.get("username", ""), "password": p.get("password", "")}}
            return self.login_page(session, config)
        s.logins += 1
        userid = f"acct:{user['username']}@{AUTHORITY}"
        self.redirect(self.login_redirect(userid), self.login_cookies(userid))

    def logout(self):
        c = self.cookies().get("auth")
        v = unsign("auth", c or "")
        if isinstance(v, list) and len(v) == 2:
            self.sim.tickets.pop(v[1], None)
        self.redirect(self.www() + "/", self.cleared_cookies())

    def account_page(self, title, config):
        nav = ("  <nav class=\"nav-bar\"><a href=\"/account\">Account</a> <a href=\"/account/profile\">Edit profile</a> "
               "<a href=\"/account/notifications\">Notifications</a> <a href=\"/account/developer\">Developer</a></nav>\n")
        body = nav + "  <div class=\"content paper\">\n    <div class=\"form-container\">\n      " + js_app(config) + "\n    </div>\n  </div>"
        self.send(200, page(title, body, self.www()))

    def account(self):
        userid = self.logged_in()
        if not userid:
            return self.not_found_page()
        user = self.sim.user_of(userid)
        self.account_page("Account", {"features": {}, "context": {"user": {"email": user["email"], "has_password": True}}})

    def developer(self):
        s = self.sim
        userid = self.logged_in()
        if not userid:
            return self.not_found_page()
        token = s.developer_token(userid)
        if self.command == "POST":
            if token and s.config.get("regenerate_keeps_old"):
                token = s.add_developer_token(userid, created=token["created"])
            elif token:
                token["value"] = DEVELOPER_PREFIX + token_urlsafe()
            else:
                token = s.add_developer_token(userid)
        config = {"features": {}}
        if token:
            config["token"] = token["value"]
        self.account_page("Developer", config)

    def authorize(self):
        s, p = self.sim, self.p
        client_id = p.get("client_id")
        if client_id != CLIENT_ID or p.get("response_type") != "code":
            body = "  <div class=\"form-container\">\n    <h1>Authorization failed</h1>\n    <p>Invalid client_id parameter value.</p>\n  </div>"
            return self.send(400, page("Authorization failed", body, self.www()))
        userid = self.logged_in()
        if not userid:
            here = self.www() + self.path
            return self.redirect(f"{self.www()}/login?" + urlencode({"next": here, "for_oauth": True}))
        if self.command == "GET":
            user = s.user_of(userid)
            form = (f"    <form class=\"form js-authorize-form\" method=\"POST\">\n"
                    f"      <input type=\"hidden\" name=\"response_mode\" value=\"{html.escape(p.get('response_mode', 'query'))}\">\n"
                    f"      <input type=\"hidden\" name=\"response_type\" value=\"code\">\n"
                    f"      <input type=\"hidden\" name=\"client_id\" value=\"{CLIENT_ID}\">\n"
                    f"      <input type=\"hidden\" name=\"state\" value=\"{html.escape(p.get('state', ''))}\" data-ref=\"stateInput\">\n"
                    "    </form>\n")
            body = ("  <div class=\"form-container form-container--popup content\">\n    <h1 class=\"form-header form-header--center\">Authorize access</h1>\n"
                    f"    <p class=\"text text--auth-prompt\"><b>{CLIENT_NAME}</b> is requesting access to your Hypothesis account <b>{html.escape(user['username'])}</b>.</p>\n"
                    + form + "  </div>")
            return self.send(200, page("Authorize application", body, self.www()))
        code = token_urlsafe()[:30]
        s.codes[code] = {"client": CLIENT_ID, "userid": userid, "expires": time.time() + 600}
        q = {"code": code}
        if p.get("state"):
            q["state"] = p["state"]
        self.redirect(CLIENT_REDIRECT + "?" + urlencode(q))


def main():
    config = {}
    for arg in sys.argv[1:]:
        k, _, v = arg.lstrip("-").partition("=")
        config[k.replace("-", "_")] = {"": True, "true": True, "false": False}.get(v, v)
    Handler.sim = Sim(config)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
