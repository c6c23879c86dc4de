"""Load through the gateway, one user class per service, as the older services' Locust
files did. Against scripts/run.sh's suite (loopback only), headless and bounded:

    .build/python/bin/locust -f tools/locustfile.py --headless -u 20 -r 5 -t 30s \
        --host http://127.0.0.1:8080 --only-summary

`SUITE_ADMIN_KEY` is the admin key for the writes (scripts/run.sh prints the one it set).
`--class-picker`-style selection works as usual: name classes after the options, e.g.
`... FlagUser SocialUser`. Answers the suite gives by design under load count as successes
and keep their own names in the report: 429 from a rate limit, 503 + Retry-After from a
breaker; anything else outside 2xx is a failure.
"""
import datetime
import json
import os
import random
import uuid

from locust import HttpUser, between, events, task

ADMIN_KEY = os.environ.get("SUITE_ADMIN_KEY", "")
WRITE_HEADERS = {"X-Api-Key": ADMIN_KEY, "Content-Type": "application/json"}
FLAG = "locust-checkout"


def expect(response, *statuses, name=None):
    """Marks a response good when its status is one of `statuses` (2xx by default), and
    files a designed refusal (429, 503) under its own name."""
    ok = response.status_code in statuses if statuses else 200 <= response.status_code < 300
    if response.status_code in (429, 503) and response.headers.get("Retry-After"):
        response.request_meta["name"] = f"{name or response.request_meta['name']} [{response.status_code}]"
        response.success()
    elif ok:
        response.success()
    else:
        response.failure(f"{response.status_code}: {response.text[:200]}")


@events.test_start.add_listener
def create_flag(environment, **_):
    """One flag for FlagUser to evaluate (409 when a previous run made it)."""
    if not environment.host:
        return
    import urllib.error
    import urllib.request

    body = json.dumps({"flag_name": FLAG, "status": True, "rollout_percentage": 50, "description": "locust"}).encode()
    request = urllib.request.Request(environment.host + "/flags/flags", data=body, headers=WRITE_HEADERS, method="POST")
    try:
        urllib.request.urlopen(request, timeout=5)
    except urllib.error.HTTPError as error:
        if error.code != 409:
            print(f"creating {FLAG}: {error.code} {error.read()[:200]!r}")


class FlagUser(HttpUser):
    wait_time = between(0.05, 0.2)

    @task(10)
    def evaluate(self):
        user = random.randint(1, 100_000)
        with self.client.get(f"/flags/users/{user}/flags/{FLAG}", name="/flags/users/[id]/flags/[name]", catch_response=True) as response:
            expect(response)

    @task(1)
    def list_flags(self):
        with self.client.get("/flags/flags", catch_response=True) as response:
            expect(response)


class RestrictionUser(HttpUser):
    wait_time = between(0.05, 0.2)

    @task(5)
    def purchase(self):
        body = {"name": "purchase_made", "event_properties": {"user_id": f"u{random.randint(1, 10_000)}", "amount": 12.5}}
        with self.client.post("/restrictions/event", json=body, headers=WRITE_HEADERS, catch_response=True) as response:
            expect(response)

    @task(5)
    def can_message(self):
        with self.client.get(f"/restrictions/canmessage?user_id=u{random.randint(1, 10_000)}", name="/restrictions/canmessage", catch_response=True) as response:
            expect(response)


class SocialUser(HttpUser):
    wait_time = between(0.1, 0.3)

    def on_start(self):
        self.user_id = None
        self.post_id = None
        with self.client.post("/social/profile/insert_new_user", json={"user_name": f"locust-{uuid.uuid4().hex[:8]}"}, headers=WRITE_HEADERS, catch_response=True) as response:
            expect(response)
            if response.status_code == 201:
                self.user_id = response.json()["user_id"]

    @task(2)
    def post(self):
        if self.user_id is None:
            return
        body = {"user_id": self.user_id, "title": "load", "content": "from locust"}
        with self.client.post("/social/post/insert_post", json=body, headers=WRITE_HEADERS, catch_response=True) as response:
            expect(response)
            if response.status_code == 201:
                self.post_id = response.json()["post_id"]

    @task(5)
    def read_post(self):
        if self.post_id is None:
            return
        with self.client.get(f"/social/post/get_post_info?post_id={self.post_id}", name="/social/post/get_post_info", catch_response=True) as response:
            expect(response)

    @task(3)
    def impression(self):
        if self.post_id is None:
            return
        body = {"post_id": self.post_id, "user_id": self.user_id, "impression_type": random.choice(["UP", "DOWN"])}
        with self.client.post("/social/feed/submit_impression", json=body, headers=WRITE_HEADERS, catch_response=True) as response:
            expect(response)

    @task(5)
    def feed(self):
        with self.client.get("/social/feed/fetch_feed", catch_response=True) as response:
            expect(response)


class AnalyticsUser(HttpUser):
    """Mostly summaries: ingest is rate limited per client (5 per 60 s by default), so most
    posts are the 429 the limit answers, reported as such."""

    wait_time = between(0.2, 0.5)

    @task(1)
    def ingest(self):
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        body = {"type": "latency", "value": random.uniform(1, 500), "timestamp": now}
        with self.client.post("/analytics/api/metrics", json=body, headers=WRITE_HEADERS, catch_response=True) as response:
            expect(response)

    @task(5)
    def summary(self):
        with self.client.get("/analytics/api/metrics/summary?type=latency&period=daily", name="/analytics/api/metrics/summary", catch_response=True) as response:
            expect(response)


class StreamUser(HttpUser):
    wait_time = between(0.05, 0.2)

    def on_start(self):
        self.subscriber = f"locust-{uuid.uuid4().hex[:8]}"
        body = {"subscriber_id": self.subscriber, "event_types": ["purchase"], "user_tiers": [], "min_amount": 10}
        with self.client.post("/stream/filters", json=body, headers=WRITE_HEADERS, catch_response=True) as response:
            expect(response)

    def on_stop(self):
        self.client.delete(f"/stream/filters/{self.subscriber}", headers=WRITE_HEADERS, name="/stream/filters/[id]")

    @task(10)
    def produce(self):
        event = {
            "event_id": uuid.uuid4().hex,
            "event_type": "purchase",
            "user_id": f"u{random.randint(1, 10_000)}",
            "user_tier": "gold",
            "amount": random.uniform(1, 100),
        }
        with self.client.post("/stream/events", json=event, headers=WRITE_HEADERS, catch_response=True) as response:
            expect(response)

    @task(1)
    def filter(self):
        with self.client.get(f"/stream/filters/{self.subscriber}", name="/stream/filters/[id]", catch_response=True) as response:
            expect(response)
