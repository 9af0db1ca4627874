"""scripts/bench.sh's driver (run inside a private keyring session): Keyward's `list --json` over
a Matrix-like account with 5,000 devices against the raw HTTP time of the same requests, and a
refresh of 20 accounts behind 500 ms of added latency against one account, with the keyring reads
per refresh. Both sides of each ratio are measured side by side, alternating, in this one run.
Prints a Markdown table. Measures only: nothing here passes or fails on a time.

  run.py KEYWARD_BINARY RESULTS_DIR
"""

import atexit
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

keyward, out_dir = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))


servers = []
atexit.register(lambda: [p.terminate() for p in servers])


def server(users, devices, latency_ms=0):
    d = tempfile.mkdtemp(prefix="kw-bench-srv-")
    port_file = os.path.join(d, "port")
    p = subprocess.Popen([sys.executable, os.path.join(here, "matrix_canned.py"), port_file, "--users", str(users),
                          "--devices", str(devices), "--latency-ms", str(latency_ms)])
    servers.append(p)
    for _ in range(200):
        if os.path.exists(port_file):
            break
        time.sleep(0.05)
    return p, f"http://127.0.0.1:{open(port_file).read().strip()}"


def counts(url, reset=False):
    req = urllib.request.Request(url + ("/_bench/reset" if reset else "/_bench/requests"), data=b"" if reset else None)
    return json.load(urllib.request.urlopen(req))


def env(config):
    e = dict(os.environ, KEYWARD_CONFIG_DIR=config, KEYWARD_KEYRING_SERVICE=f"keyward-bench-{os.getpid()}")
    e.pop("KEYWARD_LOG", None)
    return e


def kw(config, *args, stdin=None, log=None):
    e = env(config)
    if log:
        e["KEYWARD_LOG"] = log
    t = time.perf_counter()
    r = subprocess.run([keyward, *args], input=stdin, capture_output=True, text=True, env=e)
    took = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"keyward {' '.join(args)} failed: {r.stderr.strip()}")
    return took, r


def add(config, url, user):
    return subprocess.Popen([keyward, "add", url, "--user", f"bench{user}", "--token-stdin"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env(config))


def median(xs):
    return statistics.median(xs)


rows = []

# ---- 1. list --json over 5,000 devices against the raw requests ----
srv, url = server(1, 5000)
config = tempfile.mkdtemp(prefix="kw-bench-cfg-")
p = add(config, url, 0)
_, err = p.communicate("tok-0\n")
if p.returncode:
    sys.exit(f"keyward add failed: {err}")
kw(config, "list", "--json")  # the first listing learns the account is no admin
counts(url, reset=True)
_, r = kw(config, "list", "--json")
listed = len(json.loads(r.stdout))
asked = counts(url)
paths = sorted(asked)
raw_urls = []
for path in paths:
    q = "?timeout=0&set_presence=offline&filter=%7B%7D" if path.endswith("/sync") else ""
    raw_urls += [url + path + q]
curl = ["curl", "-sS", "--no-progress-meter", "--parallel", "--parallel-immediate", "-H", "Authorization: Bearer tok-0"]
for u in raw_urls:
    curl += [u, "-o", "/dev/null"]
kw_times, raw_times = [], []
for _ in range(RUNS):
    t, _ = kw(config, "list", "--json")
    kw_times.append(t)
    t = time.perf_counter()
    subprocess.run(curl, check=True)
    raw_times.append(time.perf_counter() - t)
srv.terminate()
rows.append(("`keyward list --json`, 1 Matrix account with 5,000 devices (rows listed: %d)" % listed,
             f"{median(kw_times) * 1000:.0f} ms", f"raw HTTP of the same {len(paths)} requests ({', '.join(p.rsplit('/', 1)[-1] for p in paths)}), one curl, in parallel: {median(raw_times) * 1000:.0f} ms",
             f"**{median(kw_times) / median(raw_times):.1f}×**"))

# ---- 2. 20 accounts behind 500 ms against one ----
N = 20
srv, url = server(N, 10, latency_ms=500)
config = tempfile.mkdtemp(prefix="kw-bench-cfg-")
adds = [add(config, url, i) for i in range(N)]
for i, p in enumerate(adds):
    _, err = p.communicate(f"tok-{i}\n")
    if p.returncode:
        sys.exit(f"keyward add bench{i} failed: {err}")
accounts = json.loads(kw(config, "accounts", "--json")[1].stdout)
one = next(a for a in accounts if "bench0@" in json.dumps(a))
one_name = one.get("name") or one.get("account")
kw(config, "list", "--json")  # first listings (learning who is an admin) out of the way
all_times, one_times = [], []
for _ in range(max(3, RUNS // 2)):
    counts(url, reset=True)
    t, _ = kw(config, "list", "--json")
    all_times.append(t)
    all_requests = sum(counts(url).values())
    counts(url, reset=True)
    t, _ = kw(config, "list", one_name, "--json")
    one_times.append(t)
    one_requests = sum(counts(url).values())
_, r = kw(config, "list", "--json", log="keyward::vault=debug")
reads_all = len([l for l in r.stderr.splitlines() if "keyring call" in l and re.search(r'op="?read', l)])
_, r = kw(config, "list", one_name, "--json", log="keyward::vault=debug")
reads_one = len([l for l in r.stderr.splitlines() if "keyring call" in l and re.search(r'op="?read', l)])
srv.terminate()
rows.append((f"refresh of {N} Matrix accounts (`keyward list --json`), 500 ms added to every request",
             f"{median(all_times) * 1000:.0f} ms ({all_requests / N:.0f} requests and {reads_all / N:.1f} keyring reads per account)",
             f"one account (`keyward list {one_name} --json`): {median(one_times) * 1000:.0f} ms ({one_requests} requests, {reads_one} keyring reads), {median(one_times) / 0.5:.1f} round trips of 500 ms",
             f"**{median(all_times) / median(one_times):.2f}×**"))

print(f"| measured ({RUNS} runs, medians, alternating) | Keyward | against | ratio |")
print("|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
