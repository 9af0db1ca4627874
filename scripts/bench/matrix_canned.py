"""A tiny Matrix-like homeserver for scripts/bench.sh: canned JSON for exactly the requests a
Keyward listing of a Matrix account makes (versions, auth metadata, whoami, devices, pushers, the
filtered sync, the Synapse admin devices call), optionally behind an added latency per request.
Not a test server: nothing here checks what Keyward does, it only answers fast and the same way
every time, so that what is timed is Keyward's own work (or the latency).

  matrix_canned.py PORT_FILE --users N --devices D [--latency-ms MS]

User i signs in with the access token "tok-<i>" (user id @bench<i>:bench.local, device KEYWARD<i>);
user 0 has D devices, every other user 10. Every request is counted; GET /_bench/requests returns
the counts (and POST /_bench/reset zeroes them); POST /_bench/sign_in adds a device to user 0 (a
new sign-in, "Firefox on Windows" from 198.51.100.7, seen now).
"""

import argparse
import collections
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Element/1.11.85 (Linux; Android 14; Pixel 8 Build/AP2A)",
    "Element X/25.01.0 (iPhone15,2; iOS 18.2; Scale/3.00)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "matrix-nio/0.25.2",
]
NAMES = ["Firefox on Windows", "Safari on macOS", "Element on Pixel 8", "Element X on iPhone", None, "nio bot"]


def devices(user, count, now_ms):
    out = [{"device_id": f"KEYWARD{user}", "display_name": "Keyward", "last_seen_ip": "127.0.0.1", "last_seen_ts": now_ms}]
    for i in range(count - 1):
        d = {"device_id": f"D{user:03d}X{i:05d}", "last_seen_ip": f"198.51.{i // 250 % 250}.{i % 250 + 1}",
             "last_seen_ts": now_ms - i * 3_600_000, "last_seen_user_agent": AGENTS[i % len(AGENTS)]}
        if NAMES[i % len(NAMES)]:
            d["display_name"] = NAMES[i % len(NAMES)]
        out.append(d)
    return json.dumps({"devices": out}).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port_file")
    ap.add_argument("--users", type=int, default=1)
    ap.add_argument("--devices", type=int, default=10)
    ap.add_argument("--latency-ms", type=float, default=0)
    a = ap.parse_args()
    now_ms = int(time.time() * 1000)
    lists = {u: devices(u, a.devices if u == 0 else 10, now_ms) for u in range(a.users)}
    counts = collections.Counter()
    lock = threading.Lock()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, body):
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def user(self):
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer tok-"):
                try:
                    u = int(auth[len("Bearer tok-"):])
                    return u if u in lists else None
                except ValueError:
                    return None
            return None

        def route(self):
            path = self.path.split("?", 1)[0]
            if path.startswith("/_bench/"):
                if path == "/_bench/sign_in":
                    with lock:
                        listed = json.loads(lists[0])
                        listed["devices"].append({"device_id": f"NEW{len(listed['devices'])}", "display_name": "Firefox on Windows",
                                                  "last_seen_ip": "198.51.100.7", "last_seen_ts": int(time.time() * 1000) - 120_000,
                                                  "last_seen_user_agent": AGENTS[0]})
                        lists[0] = json.dumps(listed).encode()
                if path == "/_bench/reset":
                    with lock:
                        counts.clear()
                with lock:
                    return self.answer(200, dict(counts))
            with lock:
                counts[path if not path.startswith("/_synapse/admin") else "/_synapse/admin/v2/users/…/devices"] += 1
            if a.latency_ms:
                time.sleep(a.latency_ms / 1000)
            if path == "/_matrix/client/versions":
                return self.answer(200, {"versions": ["v1.11", "v1.12"]})
            if "auth_metadata" in path or path.startswith("/.well-known"):
                return self.answer(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
            u = self.user()
            if u is None:
                return self.answer(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token"})
            if path == "/_matrix/client/v3/account/whoami":
                return self.answer(200, {"user_id": f"@bench{u}:bench.local", "device_id": f"KEYWARD{u}"})
            if path == "/_matrix/client/v3/devices":
                return self.answer(200, lists[u])
            if path == "/_matrix/client/v3/pushers":
                return self.answer(200, {"pushers": []})
            if path == "/_matrix/client/v3/sync":
                return self.answer(200, {"next_batch": "s1", "account_data": {"events": []}})
            if path.startswith("/_synapse/admin/"):
                return self.answer(403, {"errcode": "M_FORBIDDEN", "error": "You are not a server admin"})
            return self.answer(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})

        do_GET = route
        do_POST = route
        do_PUT = route

    class Server(ThreadingHTTPServer):
        # Twenty accounts ask five things each at once: more than the default backlog of 5.
        request_queue_size = 512

    srv = Server(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
