#!/usr/bin/env python3
"""A simulated Matrix homeserver with next-gen auth and its authorisation server, for Keyward's tests
(the Matrix Authentication Service cannot be installed here).

Two listeners on 127.0.0.1: the HOMESERVER (its port printed first, "PORT <n>") and the
AUTHORISATION SERVER (its issuer in GET /__sim/state as "issuer"), sharing one state in memory.

Facts it follows (read with the search tool; no capture of a real MAS was available):
  - Matrix spec v1.15+ "OAuth 2.0 API" (client-server-api#oauth-20-api) and MSC2965/MSC2966/
    MSC2967/MSC3861/MSC4191: server metadata at GET /_matrix/client/v1/auth_metadata (the older
    GET /_matrix/client/unstable/org.matrix.msc2965/auth_metadata, and the well-known's
    "org.matrix.msc2965.authentication": {"issuer", "account"}); client registration with the
    Matrix client metadata (client_uri MUST be https; native clients use loopback redirect URIs
    http://127.0.0.1[:port]/path, any port accepted at authorisation time, RFC 8252 7.3);
    authorisation code grant with PKCE, S256 only (code_challenge_methods_supported: ["S256"]);
    response_mode query or fragment; scopes urn:matrix:client:api:* and
    urn:matrix:client:device:<id> (the stable forms) and their unstable
    urn:matrix:org.matrix.msc2967.client:… forms; refresh with rotation; RFC 7009 revocation.
  - MAS documentation, "OAuth 2.0 scopes" (reference/scopes.html): a device id in the scope is
    at least 10 characters of a-z, A-Z, 0-9 and "-", one per session.
  - MSC4191 / spec v1.18 account management: account_management_uri with
    ?action=<action>&device_id=<id>; actions org.matrix.profile, org.matrix.devices_list,
    org.matrix.device_view, org.matrix.device_delete, org.matrix.account_deactivate, and the older
    names org.matrix.sessions_list, org.matrix.session_view, org.matrix.session_end.
  - shared/reference/matrix.md: with next-gen auth /login, /logout, /refresh, /delete_devices are
    not served (404 M_UNRECOGNIZED, as Synapse answers an unknown endpoint), and
    DELETE /devices/{id} is 404 M_UNRECOGNIZED.
  - Error bodies: Matrix {"errcode","error"} (401 M_UNKNOWN_TOKEN with soft_logout, true for an
    expired token; 401 M_MISSING_TOKEN); OAuth RFC 6749 5.2 {"error","error_description"} with
    400 (invalid_grant, invalid_request, unsupported_grant_type) and 401 (invalid_client);
    registration RFC 7591 3.2.2 (400 invalid_redirect_uri / invalid_client_metadata), 201 on success.
Where MAS's own behaviour is richer (a refresh-token grace period, consent remembered per client,
upstream providers, its HTML), this is simpler: an old refresh token fails at once after a rotation.

Variants (flags --name=value, or POST /__sim/config with a JSON object):
  access_ttl=N            seconds an access token lives (default 300)
  actions=a,b             account_management_actions_supported (default the v1.18 names and the
                          older ones: device_delete and session_end both)
  stable=false            the stable auth_metadata path is 404 (an older server: unstable only)
  metadata=false          neither auth_metadata path answers (only the well-known names the issuer)
  token_endpoint=URL      the metadata names this token endpoint (a hostile or changed server)

Test helpers (homeserver port), not Matrix:
  GET  /__sim/state                 devices, clients, tokens (fingerprints), hits (with the PKCE
                                    verifiers received, so tests can look for them where they must not be)
  POST /__sim/config                change variants
  POST /__sim/add_device {"user","device_id","name","ip","token"}   another session of the user
                                            (with "token": true, its tokens are minted and returned)
  POST /__sim/expire_tokens         every access token expires now
  POST /__sim/evil/token            records that something was sent here (a token endpoint elsewhere)
"""
import base64
import hashlib
import html
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.RLock()
USERS = {"alice": "alice-password", "bob": "bob-password"}
ALL_ACTIONS = [
    "org.matrix.profile", "org.matrix.devices_list", "org.matrix.device_view", "org.matrix.device_delete",
    "org.matrix.sessions_list", "org.matrix.session_view", "org.matrix.session_end",
]
DEVICE_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def fp(secret):
    """A token's fingerprint in the state (never the token itself)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


class State:
    def __init__(self, config):
        self.config = {"access_ttl": 300, "actions": ALL_ACTIONS, "stable": True, "metadata": True, "token_endpoint": None}
        self.config.update(config)
        self.hs = None
        self.issuer = None
        self.clients = {}       # client_id -> metadata
        self.grants = {}        # grant id -> pending authorisation request
        self.codes = {}         # code -> grant
        self.sessions = {}      # web session cookie -> user
        self.devices = {}       # (user, device_id) -> {name, ip, ts, client_id}
        self.access = {}        # access token -> {user, device, expires, client_id}
        self.refresh = {}       # refresh token -> {user, device, client_id, used}
        self.hits = {"token": 0, "refresh": 0, "authorization_code": 0, "revoke": [], "evil": 0,
                     "delete_device": 0, "delete_devices": 0, "login": 0, "pkce_checked": 0, "registrations": 0,
                     "verifiers": [], "expired": 0}
        self.now_offset = 0

    def now(self):
        return time.time() + self.now_offset

    def metadata(self):
        i = self.issuer
        return {
            "issuer": i,
            "authorization_endpoint": i + "authorize",
            "token_endpoint": self.config.get("token_endpoint") or i + "oauth2/token",
            "registration_endpoint": i + "oauth2/registration",
            "revocation_endpoint": i + "oauth2/revoke",
            "jwks_uri": i + "oauth2/keys.json",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            # An older server (stable=false) knows only the unstable scope names.
            "scopes_supported": ["openid", "email"] + (["urn:matrix:client:api:*"] if self.config["stable"] else [])
            + ["urn:matrix:org.matrix.msc2967.client:api:*"],
            "prompt_values_supported": ["create"],
            "account_management_uri": i + "account/",
            "account_management_actions_supported": self.config["actions"],
        }

    def end_device(self, user, device):
        self.devices.pop((user, device), None)
        for table in (self.access, self.refresh):
            for t in [t for t, v in table.items() if v["user"] == user and v["device"] == device]:
                del table[t]

    def mint(self, user, device, client_id):
        access = "mat_" + secrets.token_urlsafe(24)
        refresh = "mar_" + secrets.token_urlsafe(24)
        self.access[access] = {"user": user, "device": device, "expires": self.now() + float(self.config["access_ttl"]), "client_id": client_id}
        self.refresh[refresh] = {"user": user, "device": device, "client_id": client_id}
        return {"access_token": access, "token_type": "Bearer", "expires_in": int(self.config["access_ttl"]),
                "refresh_token": refresh, "scope": f"urn:matrix:client:api:* urn:matrix:client:device:{device}"}

    def dump(self):
        return {
            "homeserver": self.hs, "issuer": self.issuer, "config": self.config,
            "clients": self.clients,
            "devices": [{"user": u, "device_id": d, **v} for (u, d), v in self.devices.items()],
            "access_tokens": [{"fp": fp(t), **v} for t, v in self.access.items()],
            "refresh_tokens": [{"fp": fp(t), **v} for t, v in self.refresh.items()],
            "hits": self.hits,
        }


S = None


def loopback_match(registered, asked):
    """RFC 8252 7.3: a loopback redirect matches whatever its port."""
    r, a = urllib.parse.urlsplit(registered), urllib.parse.urlsplit(asked)
    if r.scheme == "http" and r.hostname in ("127.0.0.1", "::1"):
        return (a.scheme, a.hostname, a.path, a.query) == (r.scheme, r.hostname, r.path, r.query)
    return registered == asked


class Base(BaseHTTPRequestHandler):
    """Both servers: every request handled under the one lock, by the subclass's get/post."""
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        with LOCK:
            self.get()

    def do_POST(self):
        with LOCK:
            self.post()

    def log_message(self, *a):
        pass

    def send(self, status, body=b"", ctype="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def form(self):
        return dict(urllib.parse.parse_qsl(self.body().decode()))

    def json_body(self):
        try:
            return json.loads(self.body() or b"{}")
        except ValueError:
            return None

    def path_query(self):
        u = urllib.parse.urlsplit(self.path)
        return u.path, dict(urllib.parse.parse_qsl(u.query))


class Homeserver(Base):
    def merr(self, status, code, msg, **extra):
        self.send(status, {"errcode": code, "error": msg, **extra})

    def unrecognized(self):
        self.merr(404, "M_UNRECOGNIZED", "Unrecognized request")

    def who(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            self.merr(401, "M_MISSING_TOKEN", "Missing access token")
            return None
        t = S.access.get(auth[7:])
        if t is None:
            self.merr(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.", soft_logout=False)
            return None
        if t["expires"] < S.now():
            S.hits["expired"] += 1
            self.merr(401, "M_UNKNOWN_TOKEN", "Access token has expired", soft_logout=True)
            return None
        dev = S.devices.get((t["user"], t["device"]))
        if dev is not None:
            dev["ts"] = int(S.now() * 1000)
            dev["ip"] = "127.0.0.1"
        return t

    def do_PUT(self):
        with LOCK:
            self.put()

    def do_DELETE(self):
        with LOCK:
            path, _ = self.path_query()
            if path.startswith("/_matrix/client/v3/devices/"):
                S.hits["delete_device"] += 1
                if self.who() is None:
                    return
            self.unrecognized()

    def get(self):
        path, q = self.path_query()
        if path == "/__sim/state":
            return self.send(200, S.dump())
        if path == "/.well-known/matrix/client":
            return self.send(200, {"m.homeserver": {"base_url": S.hs},
                                   "org.matrix.msc2965.authentication": {"issuer": S.issuer, "account": S.issuer + "account/"}})
        if path == "/_matrix/client/versions":
            return self.send(200, {"versions": ["v1.11", "v1.12", "v1.13", "v1.14", "v1.15"], "unstable_features": {"org.matrix.msc3861": True}})
        if path == "/_matrix/client/v1/auth_metadata":
            if S.config["stable"] and S.config["metadata"]:
                return self.send(200, S.metadata())
            return self.unrecognized()
        if path == "/_matrix/client/unstable/org.matrix.msc2965/auth_metadata":
            if S.config["metadata"]:
                return self.send(200, S.metadata())
            return self.unrecognized()
        if path in ("/_matrix/client/v3/login", "/_matrix/client/r0/login"):
            S.hits["login"] += 1
            return self.unrecognized()
        t = None
        if path.startswith("/_matrix/client/") or path.startswith("/_synapse/admin/"):
            t = self.who()
            if t is None:
                return
        if path == "/_matrix/client/v3/account/whoami":
            return self.send(200, {"user_id": f"@{t['user']}:localhost", "is_guest": False, "device_id": t["device"]})
        if path == "/_matrix/client/v3/devices":
            devs = [{"device_id": d, "display_name": v["name"], "last_seen_ip": v["ip"], "last_seen_ts": v["ts"], "user_id": f"@{u}:localhost"}
                    for (u, d), v in S.devices.items() if u == t["user"]]
            return self.send(200, {"devices": devs})
        if path == "/_matrix/client/v3/pushers":
            return self.send(200, {"pushers": []})
        if path == "/_matrix/client/v3/sync":
            return self.send(200, {"next_batch": "s1_1", "account_data": {"events": []}, "rooms": {}, "presence": {"events": []}})
        if path.startswith("/_synapse/admin/"):
            return self.merr(403, "M_FORBIDDEN", "You are not a server admin")
        return self.unrecognized()

    def post(self):
        path, _ = self.path_query()
        if path == "/__sim/config":
            S.config.update(self.json_body() or {})
            return self.send(200, {})
        if path == "/__sim/add_device":
            b = self.json_body()
            S.devices[(b["user"], b["device_id"])] = {"name": b.get("name"), "ip": b.get("ip", "203.0.113.9"), "ts": int(S.now() * 1000) - 3600_000, "client_id": None}
            # The session's own tokens, as MAS would have issued them to that client.
            return self.send(200, S.mint(b["user"], b["device_id"], None) if b.get("token") else {})
        if path == "/__sim/expire_tokens":
            for t in S.access.values():
                t["expires"] = S.now() - 1
            return self.send(200, {})
        if path == "/__sim/evil/token":
            S.hits["evil"] += 1
            self.body()
            return self.send(400, {"error": "invalid_grant"})
        if path in ("/_matrix/client/v3/login", "/_matrix/client/v3/refresh", "/_matrix/client/v3/logout",
                    "/_matrix/client/v3/logout/all"):
            self.body()
            return self.unrecognized()
        if path == "/_matrix/client/v3/delete_devices":
            self.body()
            S.hits["delete_devices"] += 1
            return self.unrecognized()
        t = self.who()
        if t is None:
            return
        if path == "/_matrix/client/v3/pushers/set":
            self.body()
            return self.send(200, {})
        self.body()
        return self.unrecognized()

    def put(self):
        path, _ = self.path_query()
        b = self.json_body() or {}
        t = self.who()
        if t is None:
            return
        if path.startswith("/_matrix/client/v3/devices/"):
            d = urllib.parse.unquote(path.rsplit("/", 1)[1])
            dev = S.devices.get((t["user"], d))
            if dev is None:
                return self.merr(404, "M_NOT_FOUND", "Unknown device")
            if "display_name" in b:
                if len(b["display_name"] or "") > 100:
                    return self.merr(400, "M_TOO_LARGE", "Display name is too long")
                dev["name"] = b["display_name"]
            return self.send(200, {})
        return self.unrecognized()


def page(title, inner):
    return f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>{inner}</body></html>"


class AuthServer(Base):
    def oerr(self, status, code, desc):
        self.send(status, {"error": code, "error_description": desc})

    def user(self):
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == "mas-session" and v in S.sessions:
                return S.sessions[v]
        return None

    def to_login(self):
        nxt = urllib.parse.quote(self.path, safe="")
        self.send(303, "", "text/html", [("Location", f"/login?next={nxt}")])

    def get(self):
        path, q = self.path_query()
        if path == "/.well-known/openid-configuration":
            return self.send(200, S.metadata())
        if path == "/login":
            return self.send(200, page("Sign in", f'<form method="post" action="/login"><input type="hidden" name="next" value="{html.escape(q.get("next", "/account/"))}">'
                                                 '<input name="username"><input type="password" name="password"><button type="submit">Continue</button></form>'), "text/html")
        if path == "/authorize":
            return self.authorize(q)
        if path == "/account/":
            user = self.user()
            if user is None:
                return self.to_login()
            action, device = q.get("action"), q.get("device_id")
            if action in ("org.matrix.session_end", "org.matrix.device_delete") and action in S.config["actions"]:
                if (user, device) not in S.devices:
                    return self.send(404, page("Not found", "<p>No such session.</p>"), "text/html")
                return self.send(200, page("End session", f'<p>Sign out of {html.escape(device)}?</p><form method="post" action="/account/end">'
                                                           f'<input type="hidden" name="device_id" value="{html.escape(device)}"><button type="submit">Sign out</button></form>'), "text/html")
            return self.send(200, page("Your account", "<p>Sessions</p>"), "text/html")
        return self.oerr(404, "not_found", "no such page")

    def authorize(self, q):
        client = S.clients.get(q.get("client_id", ""))
        if client is None:
            return self.send(400, page("Error", "<p>Unknown client</p>"), "text/html")
        redirect = q.get("redirect_uri", "")
        if not any(loopback_match(r, redirect) for r in client["redirect_uris"]):
            return self.send(400, page("Error", "<p>Invalid redirect_uri</p>"), "text/html")

        def back(**params):
            url = redirect + ("&" if "?" in redirect else "?") + urllib.parse.urlencode(params)
            return self.send(303, "", "text/html", [("Location", url)])
        state = q.get("state")
        extra = {"state": state} if state is not None else {}
        if q.get("response_type") != "code":
            return back(error="unsupported_response_type", **extra)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return back(error="invalid_request", error_description="PKCE with S256 is required", **extra)
        scopes = q.get("scope", "").split()
        devices = [s.rsplit(":", 1)[1] for s in scopes if s.startswith("urn:matrix:client:device:") or s.startswith("urn:matrix:org.matrix.msc2967.client:device:")]
        api = any(s in ("urn:matrix:client:api:*", "urn:matrix:org.matrix.msc2967.client:api:*") for s in scopes)
        if not api or len(devices) != 1 or len(devices[0]) < 10 or not set(devices[0]) <= DEVICE_OK:
            return back(error="invalid_scope", **extra)
        user = self.user()
        if user is None:
            return self.to_login()
        gid = secrets.token_urlsafe(12)
        S.grants[gid] = {"client_id": client["client_id"], "redirect_uri": redirect, "state": state, "challenge": q["code_challenge"],
                         "device": devices[0], "user": user, "scope": " ".join(scopes)}
        return self.send(200, page("Allow access", f'<p>{html.escape(client.get("client_name") or "")} wants to access your account.</p>'
                                                   f'<form method="post" action="/consent"><input type="hidden" name="grant" value="{gid}">'
                                                   '<button name="action" value="allow">Allow</button><button name="action" value="deny">Deny</button></form>'), "text/html")

    def post(self):
        path, _ = self.path_query()
        if path == "/login":
            f = self.form()
            if USERS.get(f.get("username")) != f.get("password"):
                return self.send(200, page("Sign in", "<p class=error>Invalid username or password</p>"), "text/html")
            sid = secrets.token_urlsafe(16)
            S.sessions[sid] = f["username"]
            return self.send(303, "", "text/html", [("Location", f.get("next") or "/account/"), ("Set-Cookie", f"mas-session={sid}; Path=/; HttpOnly")])
        if path == "/consent":
            f = self.form()
            g = S.grants.pop(f.get("grant", ""), None)
            if g is None or self.user() != g["user"]:
                return self.send(400, page("Error", "<p>Unknown request</p>"), "text/html")
            extra = {"state": g["state"]} if g["state"] is not None else {}
            if f.get("action") != "allow":
                params = {"error": "access_denied", "error_description": "The user denied the request", **extra}
            else:
                code = secrets.token_urlsafe(18)
                S.codes[code] = {**g, "expires": S.now() + 600}
                params = {"code": code, **extra}
            url = g["redirect_uri"] + ("&" if "?" in g["redirect_uri"] else "?") + urllib.parse.urlencode(params)
            return self.send(303, "", "text/html", [("Location", url)])
        if path == "/account/end":
            user = self.user()
            f = self.form()
            if user is None:
                return self.send(403, page("Error", "<p>Not signed in</p>"), "text/html")
            S.end_device(user, f.get("device_id"))
            return self.send(200, page("Signed out", "<p>The session was signed out.</p>"), "text/html")
        if path == "/oauth2/registration":
            return self.register()
        if path == "/oauth2/token":
            return self.token()
        if path == "/oauth2/revoke":
            return self.revoke()
        return self.oerr(404, "not_found", "no such endpoint")

    def register(self):
        b = self.json_body()
        if not isinstance(b, dict):
            return self.oerr(400, "invalid_client_metadata", "The request body is not valid JSON")
        client_uri = b.get("client_uri") or ""
        if not client_uri.startswith("https://"):
            return self.oerr(400, "invalid_client_metadata", "client_uri must be an https URL")
        uris = b.get("redirect_uris") or []
        for u in uris:
            p = urllib.parse.urlsplit(u)
            if b.get("application_type") == "native" and not (p.scheme == "http" and p.hostname in ("127.0.0.1", "::1", "localhost")):
                return self.oerr(400, "invalid_redirect_uri", "native clients use loopback redirect URIs")
        if not uris or "authorization_code" not in (b.get("grant_types") or []) or b.get("response_types") != ["code"]:
            return self.oerr(400, "invalid_client_metadata", "missing redirect_uris, grant_types or response_types")
        if b.get("token_endpoint_auth_method") != "none":
            return self.oerr(400, "invalid_client_metadata", "only public clients here")
        cid = "01" + secrets.token_hex(12).upper()
        S.clients[cid] = {**b, "client_id": cid}
        S.hits["registrations"] += 1
        return self.send(201, {"client_id": cid, "client_id_issued_at": int(S.now()), **b})

    def token(self):
        f = self.form()
        S.hits["token"] += 1
        cid = f.get("client_id")
        if cid not in S.clients:
            return self.oerr(401, "invalid_client", "Client authentication failed")
        grant = f.get("grant_type")
        if grant == "authorization_code":
            S.hits["authorization_code"] += 1
            c = S.codes.pop(f.get("code", ""), None)
            if c is None or c["expires"] < S.now() or c["client_id"] != cid or c["redirect_uri"] != f.get("redirect_uri"):
                return self.oerr(400, "invalid_grant", "The authorization code is invalid")
            verifier = f.get("code_verifier") or ""
            S.hits["pkce_checked"] += 1
            S.hits["verifiers"].append(verifier)
            want = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not (43 <= len(verifier) <= 128) or want != c["challenge"]:
                return self.oerr(400, "invalid_grant", "The PKCE code verifier does not match")
            S.devices[(c["user"], c["device"])] = {"name": S.clients[cid].get("client_name"), "ip": None, "ts": None, "client_id": cid}
            return self.send(200, S.mint(c["user"], c["device"], cid))
        if grant == "refresh_token":
            S.hits["refresh"] += 1
            old = f.get("refresh_token", "")
            r = S.refresh.get(old)
            if r is None or r["client_id"] != cid:
                return self.oerr(400, "invalid_grant", "The refresh token is invalid")
            del S.refresh[old]
            for t in [t for t, v in S.access.items() if v["user"] == r["user"] and v["device"] == r["device"]]:
                del S.access[t]
            return self.send(200, S.mint(r["user"], r["device"], cid))
        return self.oerr(400, "unsupported_grant_type", "Unsupported grant type")

    def revoke(self):
        f = self.form()
        cid = f.get("client_id")
        if cid not in S.clients:
            return self.oerr(401, "invalid_client", "Client authentication failed")
        token = f.get("token", "")
        S.hits["revoke"].append({"fp": fp(token), "hint": f.get("token_type_hint")})
        t = S.access.get(token) or S.refresh.get(token)
        if t is not None and t["client_id"] == cid:
            S.end_device(t["user"], t["device"])
        return self.send(200, {})


def main():
    global S
    config = {}
    for a in sys.argv[1:]:
        if a.startswith("--"):
            k, _, v = a[2:].partition("=")
            if k == "actions":
                v = v.split(",")
            elif v in ("true", "false"):
                v = v == "true"
            elif v.isdigit():
                v = int(v)
            config[k] = v if v != "" else True
    S = State(config)
    hs = ThreadingHTTPServer(("127.0.0.1", 0), Homeserver)
    auth = ThreadingHTTPServer(("127.0.0.1", 0), AuthServer)
    S.hs = f"http://127.0.0.1:{hs.server_address[1]}"
    S.issuer = f"http://127.0.0.1:{auth.server_address[1]}/"
    threading.Thread(target=auth.serve_forever, daemon=True).start()
    print(f"PORT {hs.server_address[1]}", flush=True)
    hs.serve_forever()


if __name__ == "__main__":
    main()
