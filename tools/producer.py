#!/usr/bin/env python3
"""Events for StreamFilter, at a given rate, through POST /events.

  producer.py [--url http://127.0.0.1:8084] [--rate 200] [--count 10000] [--seconds 60]
              [--users 500] [--batch 50] [--seed 1] [--key KEY]

A realistic mix: users on a tier each (premium 15 %, basic 35 %, free 50 %) with skewed
activity (a few users make most events), sessions of views and searches, some cart adds,
purchases with amounts that follow a long tail (most small, a few over 1,000), occasional
refunds and signups; properties carry a region, a device, an item and a session id. Every
event has an event_id, so a retried batch is a no-op. It stops at --count events or after
--seconds, whichever comes first, and prints what it sent and the answers' latency.

It refuses any address that is not loopback: this is a load tool for this machine only.
"""
import argparse
import http.client
import json
import random
import sys
import time
import urllib.parse
import uuid

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TIERS = [("premium", 0.15), ("basic", 0.35), ("free", 0.50)]
KINDS = [("view", 0.45), ("search", 0.20), ("add_to_cart", 0.12), ("purchase", 0.15), ("refund", 0.02), ("signup", 0.03), ("share", 0.03)]
REGIONS = ["EU", "US", "APAC", "LATAM"]
DEVICES = ["ios", "android", "web"]


def loopback_only(url):
    host = urllib.parse.urlsplit(url).hostname
    if host not in LOOPBACK and not (host or "").startswith("127."):
        sys.exit(f"refusing {url}: only loopback addresses are allowed")
    return url


def weighted(rng, pairs):
    point, total = rng.random(), 0.0
    for value, weight in pairs:
        total += weight
        if point < total:
            return value
    return pairs[-1][0]


class Mix:
    def __init__(self, users, seed):
        self.rng = random.Random(seed)
        self.users = [(f"user_{i}", weighted(self.rng, TIERS), self.rng.choice(REGIONS), self.rng.choice(DEVICES)) for i in range(users)]
        self.sessions = {}
        self.run = uuid.uuid4().hex[:8]
        self.sent = 0

    def event(self):
        rng = self.rng
        # Skewed activity: a Pareto draw picks mostly the first users.
        index = min(len(self.users) - 1, int(rng.paretovariate(1.2)) - 1)
        user_id, tier, region, device = self.users[index]
        kind = weighted(rng, KINDS)
        if rng.random() < 0.05 or user_id not in self.sessions:
            self.sessions[user_id] = uuid.uuid4().hex[:12]
        properties = {"region": region, "device": device, "session": self.sessions[user_id], "item": f"item_{int(rng.expovariate(1 / 300))}"}
        event = {"event_id": f"{self.run}-{self.sent}", "event_type": kind, "user_id": user_id, "user_tier": tier, "properties": properties}
        if kind in ("purchase", "refund", "add_to_cart"):
            # Long-tailed amounts: mostly tens, sometimes over a thousand.
            event["amount"] = round(min(5000.0, rng.lognormvariate(3.8, 1.1)), 2)
        self.sent += 1
        return event


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8084")
    parser.add_argument("--rate", type=float, default=200, help="events per second")
    parser.add_argument("--count", type=int, default=10_000, help="stop after this many events")
    parser.add_argument("--seconds", type=float, default=60, help="stop after this long")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--batch", type=int, default=50, help="events per request (1 to 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--key", help="X-Api-Key, for STREAM_ACCESS=keyed")
    args = parser.parse_args()
    parts = urllib.parse.urlsplit(loopback_only(args.url))
    if not 1 <= args.batch <= 1000 or args.rate <= 0 or args.count < 1 or args.seconds <= 0:
        sys.exit("--batch 1..1000, --rate > 0, --count >= 1, --seconds > 0")
    headers = {"Content-Type": "application/json"}
    if args.key:
        headers["X-Api-Key"] = args.key
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10)
    mix = Mix(args.users, args.seed)
    start = time.monotonic()
    latencies, failures, duplicates = [], 0, 0
    while mix.sent < args.count and time.monotonic() - start < args.seconds:
        size = min(args.batch, args.count - mix.sent)
        events = [mix.event() for _ in range(size)]
        sent_at = time.monotonic()
        try:
            connection.request("POST", parts.path.rstrip("/") + "/events", body=json.dumps(events), headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status == 202:
                duplicates += sum(1 for item in json.loads(body)["events"] if item["duplicate"])
            else:
                failures += size
                print(f"{response.status}: {body[:200]!r}", file=sys.stderr)
        except (OSError, http.client.HTTPException) as error:
            failures += size
            print(f"request failed: {error}", file=sys.stderr)
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10)
        latencies.append(time.monotonic() - sent_at)
        # Pace to the rate: the batch's share of a second, from the start.
        pause = start + mix.sent / args.rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    elapsed = time.monotonic() - start
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0
    p99 = latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] * 1000 if latencies else 0
    print(f"sent {mix.sent} events in {elapsed:.1f} s ({mix.sent / elapsed:.0f}/s) in {len(latencies)} requests; "
          f"failed {failures}, duplicates {duplicates}; request p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
