#!/usr/bin/env python3
"""Traffic for the social trio (Profile, Post, Feed), through their public APIs only.

  social.py simulate --profile URL --post URL --feed URL [--users 20 --posts 50 --impressions 500 --seconds 60]
  social.py chaos --bin DIR --redis-url URL --database-url URL [--phase-seconds 6 --workers 8]

simulate creates users, posts and impressions, bounded in count and in time. chaos starts its
own Profile, Post and Feed from DIR, runs simulated reads while it SIGKILLs Profile, brings
it back, SIGSTOPs it and thaws it, and prints per phase: requests, non-2xx, fallbacks,
p50/p99 latency, and how long each caller's breaker took to open and to close.

Both refuse any address that is not loopback: this is a load tool for this machine only.
"""
import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def loopback_only(url):
    host = urllib.parse.urlsplit(url).hostname
    if host not in LOOPBACK and not (host or "").startswith("127."):
        sys.exit(f"refusing {url}: only loopback addresses are allowed")
    return url


class Client:
    """One keep-alive connection per thread and base URL."""

    def __init__(self, timeout=5.0):
        self.local = threading.local()
        self.timeout = timeout

    def request(self, method, url, body=None):
        parts = urllib.parse.urlsplit(url)
        key = (parts.hostname, parts.port)
        conns = self.local.__dict__.setdefault("conns", {})
        path = parts.path + ("?" + parts.query if parts.query else "")
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload else {}
        for attempt in (1, 2):
            conn = conns.get(key) or http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
            conns[key] = conn
            start = time.monotonic()
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
                return response.status, dict(response.getheaders()), data, time.monotonic() - start
            except (ConnectionError, http.client.HTTPException, socket.timeout, OSError):
                conn.close()
                conns.pop(key, None)
                if attempt == 2:
                    return -1, {}, b"", time.monotonic() - start


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def simulate(args):
    for url in (args.profile, args.post, args.feed):
        loopback_only(url)
    client = Client()
    deadline = time.monotonic() + args.seconds
    users, posts, counts, latencies = [], [], {}, []

    def record(kind, status, elapsed):
        counts.setdefault(kind, {}).setdefault(status, 0)
        counts[kind][status] += 1
        latencies.append(elapsed)

    for i in range(args.users):
        if time.monotonic() > deadline:
            break
        status, _, data, elapsed = client.request("POST", args.profile + "/insert_new_user", {"user_name": f"sim-user-{i}-{random.randrange(10**6)}"})
        record("insert_new_user", status, elapsed)
        if status == 201:
            users.append(json.loads(data)["user_id"])
    for i in range(args.posts):
        if time.monotonic() > deadline or not users:
            break
        status, _, data, elapsed = client.request("POST", args.post + "/insert_post", {
            "user_id": random.choice(users), "title": f"post {i}", "content": "simulated " * random.randint(1, 20)})
        record("insert_post", status, elapsed)
        if status == 201:
            posts.append(json.loads(data)["post_id"])
    for _ in range(args.impressions):
        if time.monotonic() > deadline or not posts:
            break
        status, _, _, elapsed = client.request("POST", args.feed + "/submit_impression", {
            "post_id": random.choice(posts), "user_id": random.choice(users),
            "impression_type": random.choice(["UP", "UP", "UP", "DOWN"])})
        record("submit_impression", status, elapsed)
    for kind, statuses in counts.items():
        print(f"{kind:20s} " + " ".join(f"{status}:{n}" for status, n in sorted(statuses.items())))
    print(f"users={len(users)} posts={len(posts)} p50_ms={percentile(latencies, .5)*1000:.1f} p99_ms={percentile(latencies, .99)*1000:.1f}")
    return users, posts


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Trio:
    """Profile, Post and Feed as child processes."""

    def __init__(self, bin_dir, redis_url, database_url, logs):
        self.bin_dir, self.logs = bin_dir, logs
        self.ports = {name: free_port() for name in ("profile", "post", "feed")}
        self.env = dict(os.environ, REDIS_URL=redis_url, DATABASE_URL=database_url, HEALTH_INTERVAL_MS="200",
                        PROFILE_URL=f"http://127.0.0.1:{self.ports['profile']}", PROFILE_TIMEOUT_MS="500", LOG_LEVEL="warning")
        self.procs = {}
        for name in ("profile", "post", "feed"):
            self.start(name)

    def url(self, name):
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self, name):
        executable = {"profile": "ProfileService", "post": "PostService", "feed": "FeedService"}[name]
        variable = {"profile": "PROFILE_PORT", "post": "POST_PORT", "feed": "FEED_PORT"}[name]
        log = open(os.path.join(self.logs, f"{name}.log"), "ab")
        self.procs[name] = subprocess.Popen([os.path.join(self.bin_dir, executable)], stdout=log, stderr=log,
                                            env=dict(self.env, **{variable: str(self.ports[name])}))
        client, deadline = Client(timeout=1), time.monotonic() + 60
        while time.monotonic() < deadline:
            if client.request("GET", self.url(name) + "/health/ready")[0] == 200:
                return
            time.sleep(0.05)
        sys.exit(f"{executable} did not become ready; see {self.logs}")

    def signal(self, name, sig):
        self.procs[name].send_signal(sig)
        if sig == signal.SIGKILL:
            self.procs[name].wait()

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def breaker_state(client, url, caller):
    status, _, data, _ = client.request("GET", url + "/metrics")
    if status != 200:
        return None
    prefix = f'breaker_state{{caller="{caller}",dependency="profile"}} '
    for line in data.decode().splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix):])
    return None


def chaos(args):
    loopback_only(args.redis_url)
    trio = Trio(args.bin, args.redis_url, args.database_url, args.logs)
    try:
        print("seeding through the public API ...")
        seed = argparse.Namespace(profile=trio.url("profile"), post=trio.url("post"), feed=trio.url("feed"),
                                  users=20, posts=40, impressions=200, seconds=60)
        users, posts = simulate(seed)
        samples, lock, running = [], threading.Lock(), [True]

        def worker():
            client = Client(timeout=5)
            while running[0]:
                if random.random() < 0.5:
                    target, url = "post", trio.url("post") + f"/get_post_info?post_id={random.choice(posts)}"
                else:
                    target, url = "feed", trio.url("feed") + "/get_trending_user_info"
                status, headers, _, elapsed = client.request("GET", url)
                with lock:
                    samples.append((time.monotonic(), target, status, headers.get("X-Fallback") == "cache", elapsed))

        states = {"post": [], "feed": []}

        def monitor():
            client = Client(timeout=1)
            while running[0]:
                for caller in states:
                    state = breaker_state(client, trio.url(caller), caller)
                    states[caller].append((time.monotonic(), state))
                time.sleep(0.02)

        threads = [threading.Thread(target=worker) for _ in range(args.workers)] + [threading.Thread(target=monitor)]
        for thread in threads:
            thread.start()

        def first_state(caller, since, wanted):
            for at, state in states[caller]:
                if at >= since and state in wanted:
                    return at - since
            return None

        phases = [
            ("baseline", None),
            ("profile SIGKILL", lambda: trio.signal("profile", signal.SIGKILL)),
            ("profile restarted", lambda: trio.start("profile")),
            ("profile SIGSTOP", lambda: trio.signal("profile", signal.SIGSTOP)),
            ("profile SIGCONT", lambda: trio.signal("profile", signal.SIGCONT)),
        ]
        print(f"{'phase':18s} {'requests':>8s} {'non-2xx':>8s} {'fallback':>8s} {'p50 ms':>8s} {'p99 ms':>8s}   breakers (post, feed)")
        for name, action in phases:
            began = time.monotonic()
            if action:
                action()
            time.sleep(args.phase_seconds)
            ended = time.monotonic()
            with lock:
                window = [s for s in samples if began <= s[0] < ended]
            latencies = [s[4] for s in window]
            non2xx = sum(1 for s in window if not 200 <= s[2] < 300)
            fallback = sum(1 for s in window if s[3])
            notes = []
            for caller in ("post", "feed"):
                opened = first_state(caller, began, {2.0})
                closed = first_state(caller, began, {0.0}) if name in ("profile restarted", "profile SIGCONT") else None
                part = f"{caller}:"
                part += f" open after {opened:.2f}s" if opened is not None and name in ("profile SIGKILL", "profile SIGSTOP") else ""
                part += f" closed after {closed:.2f}s" if closed is not None else ""
                notes.append(part)
            print(f"{name:18s} {len(window):8d} {non2xx:8d} {fallback:8d} {percentile(latencies, .5)*1000:8.1f} "
                  f"{percentile(latencies, .99)*1000:8.1f}   {'; '.join(notes)}")
        running[0] = False
        for thread in threads:
            thread.join()
    finally:
        trio.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate")
    sim.add_argument("--profile", default="http://127.0.0.1:8085")
    sim.add_argument("--post", default="http://127.0.0.1:8086")
    sim.add_argument("--feed", default="http://127.0.0.1:8087")
    sim.add_argument("--users", type=int, default=20)
    sim.add_argument("--posts", type=int, default=50)
    sim.add_argument("--impressions", type=int, default=500)
    sim.add_argument("--seconds", type=float, default=60)
    ch = commands.add_parser("chaos")
    ch.add_argument("--bin", required=True)
    ch.add_argument("--redis-url", required=True)
    ch.add_argument("--database-url", required=True)
    ch.add_argument("--logs", default="/tmp")
    ch.add_argument("--phase-seconds", type=float, default=6)
    ch.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    simulate(args) if args.command == "simulate" else chaos(args)


if __name__ == "__main__":
    main()
