#!/usr/bin/env python3
"""The simulated unreliable external source AnalyticsService quotes in `external_data`.

As the older service's was: it answers `GET /data?type=` with a made-up figure after some
latency, and fails a share of the calls with 500. Both are set at start and can be changed
while it runs (`POST /control {"failure_rate", "latency_ms", "hang"}`), which is how the
tests make it fail, hang and recover. `GET /stats` counts the calls; `GET /health/ready` answers 200. Loopback only.

    tools/external_source.py --port 8090 --failure-rate 0.1 --latency-ms 50
"""
import argparse
import json
import random
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

state = {"failure_rate": 0.1, "latency_ms": 50.0, "hang": False, "calls": 0, "failures": 0}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/health/ready":
            return self.reply(200, {"status": "ok"})
        if url.path == "/stats":
            with lock:
                return self.reply(200, dict(state))
        if url.path != "/data":
            return self.reply(404, {"error": "no such path"})
        with lock:
            state["calls"] += 1
            failure_rate, latency, hang = state["failure_rate"], state["latency_ms"], state["hang"]
        if hang:
            time.sleep(3600)
        time.sleep(latency * random.uniform(0.5, 1.5) / 1000)
        if random.random() < failure_rate:
            with lock:
                state["failures"] += 1
            return self.reply(500, {"error": "simulated failure"})
        kind = parse_qs(url.query).get("type", ["unknown"])[0]
        self.reply(200, {
            "source": "simulated",
            "type": kind,
            "benchmark_value": round(random.uniform(10, 100), 2),
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        })

    def do_POST(self):
        if urlparse(self.path).path != "/control":
            return self.reply(404, {"error": "no such path"})
        length = int(self.headers.get("Content-Length") or 0)
        try:
            change = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self.reply(400, {"error": "not JSON"})
        with lock:
            for name in ("failure_rate", "latency_ms", "hang"):
                if name in change:
                    state[name] = change[name]
            return self.reply(200, dict(state))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--failure-rate", type=float, default=0.1)
    parser.add_argument("--latency-ms", type=float, default=50)
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("loopback only")
    state["failure_rate"], state["latency_ms"] = args.failure_rate, args.latency_ms
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"external source on http://{args.host}:{args.port}/data", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
