#!/usr/bin/env bash
# The test command: installs what is missing, starts a throwaway Redis and PostgreSQL on free
# ports in a temporary directory, builds, runs `swift test`, and tears everything down, also
# when tests fail or the run is interrupted. Extra arguments go to `swift test`
# (e.g. `scripts/test.sh --filter Breaker`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_packages chromium fonts-dejavu-core # the dashboard's browser test

# The tree stays formatted (the toolchain's swift-format, settings in .swift-format): a
# warning fails the run, and `swift format format --in-place --recursive --parallel Sources
# Tests bench Package.swift` fixes most.
swift format lint --strict --recursive --parallel Sources Tests bench Package.swift
TEST_PYTHON=$(ensure_python_tools)
export TEST_PYTHON

tmp=$(mktemp -d /tmp/suite-test.XXXXXX)
chmod 755 "$tmp"
previous_reservation=$(reserve_test_ports)
redis_port=$(free_port)
pg_port=$(free_port)
# The test servers take passwords as the run command's do, so every test connects the way a
# deployment does; the tests' own servers (infra.sh) read the same variables.
SUITE_REDIS_PASSWORD=$(secret_file "$tmp/secrets/redis-password")
SUITE_PG_PASSWORD=$(secret_file "$tmp/secrets/postgres-password")
export SUITE_REDIS_PASSWORD SUITE_PG_PASSWORD

teardown() {
    local status=$?
    set +e
    # Tests clean up their own servers; this catches what a crash or Ctrl-C left behind.
    for pidfile in "$tmp"/*/redis-*.pid "$tmp"/*/*/redis-*.pid; do
        [ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null
    done
    for data in "$tmp"/pg "$tmp"/pg_*; do
        [ -f "$data/postmaster.pid" ] && pg_stop "$data" immediate
    done
    pkill -9 -f "$tmp/" 2>/dev/null
    rm -rf "$tmp"
    release_test_ports "$previous_reservation"
    exit $status
}
trap teardown EXIT INT TERM

log "redis on $redis_port, postgres on $pg_port, in $tmp; ephemeral ports $(cat /proc/sys/net/ipv4/ip_local_port_range), reserved $(cat "$reserved_ports_file")"
redis_start "$tmp/redis" "$redis_port"
pg_init "$tmp/pg-template" throwaway
cp -a "$tmp/pg-template" "$tmp/pg"
pg_start "$tmp/pg" "$pg_port"

export TEST_TMPDIR="$tmp"
TEST_REDIS_URL=$(redis_url "$redis_port")
TEST_DATABASE_URL=$(postgres_url "$pg_port")
export TEST_REDIS_URL TEST_DATABASE_URL

# TEST_REDIS_TOPOLOGY=cluster selects Redis Cluster for the run: the run's Redis is a cluster
# (three masters, three replicas) and every test's private Redis is one (TestSupport's
# PrivateRedis), so the same tests show the services on a cluster.
start_run_cluster() { # on fresh ports again if one was taken before its node bound it
    local ports=() nodes=() port attempt
    for attempt in 1 2 3; do
        ports=()
        for _ in 1 2 3 4 5 6; do
            port=$(free_cluster_port)
            while [[ " ${ports[*]} " == *" $port "* ]]; do port=$(free_cluster_port); done
            ports+=("$port")
        done
        redis_cluster_start "$tmp/redis-cluster-$attempt" "${ports[@]}" && break
        redis_cluster_stop "$tmp/redis-cluster-$attempt" "${ports[@]}"
        [ "$attempt" -lt 3 ] || return 1
    done
    for port in "${ports[@]}"; do nodes+=("127.0.0.1:$port"); done
    TEST_REDIS_URL=$(redis_url "${ports[0]}")
    TEST_REDIS_CLUSTER_NODES=$(IFS=,; echo "${nodes[*]}")
    export TEST_REDIS_URL TEST_REDIS_CLUSTER_NODES
    log "redis cluster on ${ports[*]}"
}
[ "${TEST_REDIS_TOPOLOGY:-}" = cluster ] && start_run_cluster
export TEST_PG_TEMPLATE="$tmp/pg-template"
export TEST_INFRA="$PWD/scripts/infra.sh"
# Screenshots and the like, kept after the run.
export TEST_ARTIFACTS_DIR="$PWD/.build/test-artifacts"
rm -rf "$TEST_ARTIFACTS_DIR"

swift build --build-tests
# Everything in parallel, then the timing-exact suites (types named Exclusive…) alone. Each
# pass has a deadline, so a hung test fails the run instead of stalling it. Both passes take
# the extra arguments: the serial pass skips every test whose name lacks "Exclusive" (a second
# `--filter` would widen the selection, not narrow it).
# The parallel pass runs at most TEST_PARALLELISM (16) tests at once: with every test of the
# package started together on two cores, a test's 10 s wait could pass without it being run.
run_passes() { # swift test arguments
    timeout -k 30 1200 swift test --skip-build --skip Exclusive \
        --experimental-maximum-parallelization-width "${TEST_PARALLELISM:-16}" "$@"
    timeout -k 30 600 swift test --skip-build --no-parallel "$@" --skip '^(?!.*Exclusive)'
}
run_passes "$@"

# A whole run (no arguments) then runs a part of each service's suite again with Redis Cluster
# selected: flags propagation, rate limits, heartbeats and breakers, the social services and
# their faults, stream delivery, analytics, restriction rules, tripwires and exactly-once with a
# consumer killed, the gateway in front of them all. Left out: tests that stop, restart or freeze
# their Redis (one server's faults), input validation and schemathesis (nothing of Redis in
# them). Four tests at a time: each starts six servers.
if [ $# -eq 0 ] && [ "${TEST_REDIS_TOPOLOGY:-}" != cluster ]; then
    log "again on a Redis Cluster"
    start_run_cluster
    (
        export TEST_REDIS_TOPOLOGY=cluster TEST_PARALLELISM=4
        run_passes \
            --filter 'SharedTests\.(RateLimiterTests|HealthPubSubTests)|RestrictionTests\.(TripwireTests|RestrictionRulesFileTests)|EndToEndTests\.(FlagServiceTests|SocialTests|ExclusiveSocialFaultTests|ExclusiveStreamTests|ExclusiveStreamFlowTests|ExclusiveAnalyticsTests|RestrictionTests|RestrictionFaultTests|GatewayTests|ExclusiveGatewayTimingTests)' \
            --skip 'withRedisStopped|redisStoppedServesLiveAndCachingResumes|redisRestartedAndPostgresStopped|redisRestartedDuringIngest|hostileInput|schemathesis'
    )
fi
log "test artifacts (screenshots): $TEST_ARTIFACTS_DIR"
