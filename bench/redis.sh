#!/usr/bin/env bash
# bench/redis.sh: the Shared Redis client beside redis-benchmark, same server, same run.
# Release build; a throwaway Redis on a free loopback port. Prints each figure and the
# ratio client / redis-benchmark (aim: 0.5 or better). Then the same against a local Redis
# Cluster (three masters, three replicas) beside `redis-benchmark --cluster`, keys spread over
# KEYSPACE keys so every master takes a share, ROUNDS alternating rounds, each printed. Each
# figure twice for the client: calls straight through it (`direct`), and through a
# `RedisBatcher` of BATCH_FLUSHERS=3 flushers (`batched`: concurrent callers share pipelines, as
# the services' hot paths do).
#   REQUESTS=200000 CONCURRENCY=32 KEYSPACE=100000 ROUNDS=2 bench/redis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages

requests=${REQUESTS:-200000}
concurrency=${CONCURRENCY:-32}
keyspace=${KEYSPACE:-100000}
rounds=${ROUNDS:-2}
flushers=${BATCH_FLUSHERS:-3}
tmp=$(mktemp -d /tmp/suite-bench.XXXXXX)
port=$(free_port)
cluster_ports=()
for _ in 1 2 3 4 5 6; do cluster_ports+=("$(free_cluster_port)"); done
trap 'redis_stop "$tmp" "$port"; redis_cluster_stop "$tmp/cluster" "${cluster_ports[@]}"; rm -rf "$tmp"' EXIT
redis_start "$tmp" "$port"

# The bench executables are in the package only when asked for (Package.swift).
export SUITE_BENCHMARKS=1
swift build -c release --product RedisBench >/dev/null
bin=$(swift build -c release --show-bin-path)

# redis-benchmark's requests per second, from its quiet output.
benchmark() { # redis-benchmark arguments
    redis-benchmark "$@" -q 2>/dev/null \
        | tr '\r' '\n' | awk -F'[: ]+' '/requests per second/ { for (i = 1; i <= NF; i++) if ($i == "requests") print $(i-1) }' | tail -n 1
}
baseline() { # command pipeline
    benchmark -p "$port" -c "$concurrency" -n "$requests" -P "$2" -t "$1"
}
ours() { # command pipeline [RedisBench options]
    "$bin/RedisBench" --port "$port" --concurrency "$concurrency" --requests "$requests" --pipeline "$2" --command "$1" "${@:3}"
}
ours_batched() { ours "$@" --batched "$flushers"; }

# Rows for one command and pipeline depth: the baseline, then each client variant beside it
# (direct, batched) with its ratio.
row() { # round baseline-function direct-function batched-function command pipeline
    local base line mine latency ratio variant function
    base=$("$2" "$5" "$6")
    for variant in direct batched; do
        function=$3; [ "$variant" = batched ] && function=$4
        line=$("$function" "$5" "$6")
        mine=$(echo "$line" | sed -E 's/.*ops\/s=([0-9.]+).*/\1/')
        latency=$(echo "$line" | sed -E 's/.*(p50_ms=[0-9.]+ p99_ms=[0-9.]+).*/\1/')
        ratio=$(python3 -c "print(f'{$mine / $base:.2f}')")
        printf '%-5s %-6s %-9s %16.0f %-8s %14.0f %8s   %s\n' "$1" "$5" "$6" "$base" "$variant" "$mine" "$ratio" "$latency"
    done
}
header() { printf '%-5s %-6s %-9s %16s %-8s %14s %8s   %s\n' round command pipeline redis-benchmark client shared-client ratio "client latency"; }

header
for pipeline in 1 16; do
    for command in set get; do row 1 baseline ours ours_batched "$command" "$pipeline"; done
done
echo "(-c $concurrency, -n $requests, one server, loopback; ratio = shared client / redis-benchmark)"

redis_cluster_start "$tmp/cluster" "${cluster_ports[@]}"
nodes=$(printf '127.0.0.1:%s,' "${cluster_ports[@]}"); nodes=${nodes%,}
cluster_baseline() { # command pipeline
    benchmark --cluster -h 127.0.0.1 -p "${cluster_ports[0]}" -c "$concurrency" -n "$requests" -P "$2" -t "$1" -r "$keyspace"
}
cluster_ours() { # command pipeline [RedisBench options]
    "$bin/RedisBench" --port "${cluster_ports[0]}" --cluster "$nodes" --keyspace "$keyspace" \
        --concurrency "$concurrency" --requests "$requests" --pipeline "$2" --command "$1" "${@:3}"
}
cluster_batched() { cluster_ours "$@" --batched "$flushers"; }
echo
echo "Redis Cluster: 3 masters + 3 replicas, keys over $keyspace keys; baseline redis-benchmark --cluster"
header
for round in $(seq 1 "$rounds"); do
    for pipeline in 1 16; do
        for command in set get; do row "$round" cluster_baseline cluster_ours cluster_batched "$command" "$pipeline"; done
    done
done
echo "(ratio = shared client / redis-benchmark --cluster; each pipeline of the client is split by node)"
