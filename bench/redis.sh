#!/usr/bin/env bash
# bench/redis.sh: the Shared Redis client beside redis-benchmark, same server, same run.
# Release build; a throwaway Redis on a free loopback port. Prints each figure and the
# ratio client / redis-benchmark (aim: 0.5 or better).
#   REQUESTS=200000 CONCURRENCY=32 bench/redis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages

requests=${REQUESTS:-200000}
concurrency=${CONCURRENCY:-32}
tmp=$(mktemp -d /tmp/suite-bench.XXXXXX)
port=$(free_port)
trap 'redis_stop "$tmp" "$port"; rm -rf "$tmp"' EXIT
redis_start "$tmp" "$port"

# The bench executables are in the package only when asked for (Package.swift).
export SUITE_BENCHMARKS=1
swift build -c release --product RedisBench >/dev/null
bin=$(swift build -c release --show-bin-path)

baseline() { # command pipeline
    redis-benchmark -p "$port" -c "$concurrency" -n "$requests" -P "$2" -t "$1" -q 2>/dev/null \
        | tr '\r' '\n' | awk -F'[: ]+' '/requests per second/ { for (i = 1; i <= NF; i++) if ($i == "requests") print $(i-1) }' | tail -n 1
}
ours() { # command pipeline
    "$bin/RedisBench" --port "$port" --concurrency "$concurrency" --requests "$requests" --pipeline "$2" --command "$1"
}

printf '%-6s %-9s %14s %14s %8s   %s\n' command pipeline redis-benchmark shared-client ratio "client latency"
for pipeline in 1 16; do
    for command in set get; do
        base=$(baseline "$command" "$pipeline")
        line=$(ours "$command" "$pipeline")
        mine=$(echo "$line" | sed -E 's/.*ops\/s=([0-9.]+).*/\1/')
        latency=$(echo "$line" | sed -E 's/.*(p50_ms=[0-9.]+ p99_ms=[0-9.]+).*/\1/')
        ratio=$(python3 -c "print(f'{$mine / $base:.2f}')")
        printf '%-6s %-9s %14.0f %14.0f %8s   %s\n' "$command" "$pipeline" "$base" "$mine" "$ratio" "$latency"
    done
done
echo "(-c $concurrency, -n $requests, one server, loopback; ratio = shared client / redis-benchmark)"
