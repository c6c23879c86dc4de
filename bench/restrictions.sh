#!/usr/bin/env bash
# bench/restrictions.sh: RestrictionConsumer in one run (release build, loopback):
#  1. POST /event at CONNECTIONS=64 beside the bare route of the same process (role api, so
#     no consumer competes), with p50/p99: medians of ROUNDS=3 alternating rounds;
#  2. one consumer's events applied per second (EVENTS=200000 preloaded);
#  3. the lag from a post to the restriction being visible, p50/p99, with the stream fed at
#     half the consumer's rate;
#  4. redis-benchmark XADD on the same server, for scale;
#  5. events applied per second by 1, 2 and 3 consumers on a Redis Cluster of three masters
#     (CLUSTER_EVENTS=100000, CLUSTER_ROUNDS=2 alternating rounds) beside one consumer on one
#     Redis in the same round, with the scaling factor.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/wrk.sh

connections=${CONNECTIONS:-64}
seconds=${SECONDS_PER_RUN:-10}
rounds=${ROUNDS:-3}
events=${EVENTS:-200000}
bench_start RestrictionConsumer RestrictionBench
export LOG_LEVEL=error

# 1. Ingest vs bare.
port=$(free_port)
RESTRICTION_PORT=$port RESTRICTIONS_ROLE=api BENCH_BARE_ROUTE=1 BENCH_BARE_BYTES=100 \
    "$bin/RestrictionConsumer" >"$tmp/api.log" 2>&1 & pids+=($!)
wait_for 60 curl -sf "http://127.0.0.1:$port/health/ready"
base="http://127.0.0.1:$port"
# Requests are built once per wrk thread, so the load generator spends no more per request
# than it does on the bare route (both share this machine's two cores).
cat >"$tmp/post.lua" <<'LUA'
local requests = {}
local index = 0
init = function(args)
  for i = 0, 9999 do
    local body = '{"name":"purchase_made","event_properties":{"user_id":"u' .. i .. '","amount":12.5}}'
    requests[i + 1] = wrk.format("POST", "/event", {["Content-Type"] = "application/json"}, body)
  end
end
request = function()
  index = index % #requests + 1
  return requests[index]
end
LUA
wrk_run "$base/event" 8 2 "$tmp/post.lua" >/dev/null # warm up
bare_runs=(); post_runs=(); ratios=()
for ((round = 0; round < rounds; round++)); do
    bare_runs+=("$(wrk_run "$base/_bench/bare" "$connections" "$seconds")")
    post_runs+=("$(wrk_run "$base/event" "$connections" "$seconds" "$tmp/post.lua")")
    ratios+=("$(ratio "${post_runs[-1]%% *}" "${bare_runs[-1]%% *}")")
done
read -r bare_rps bare_p50 bare_p99 bare_bad bare_err <<<"$(wrk_median "${bare_runs[@]}")"
read -r post_rps post_p50 post_p99 post_bad post_err <<<"$(wrk_median "${post_runs[@]}")"
printf '%-34s %10s %9s %9s %8s %8s\n' case req/s p50_ms p99_ms non-2xx "vs bare"
printf '%-34s %10s %9s %9s %8s %8s\n' "bare route (same process)" "$bare_rps" "$bare_p50" "$bare_p99" "$bare_bad" 1.00
printf '%-34s %10s %9s %9s %8s %8s\n' "POST /event" "$post_rps" "$post_p50" "$post_p99" "$post_bad" "$(ratio "$post_rps" "$bare_rps")"
echo "(medians of $rounds alternating rounds; each round's ratio: ${ratios[*]})"
echo "(wrk -t2 -c$connections -d${seconds}s, release, loopback, one machine)"
kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pids=()
redis-cli -p "$redis_port" flushall >/dev/null

# 2. One consumer's throughput.
consume=$("$bin/RestrictionBench" consume "$REDIS_URL" "$events")
echo "$consume"
rate=$(python3 -c "import re,sys; print(int(float(re.search(r'([\d.]+) events/s', sys.argv[1]).group(1)) / 2))" "$consume")
redis-cli -p "$redis_port" flushall >/dev/null

# 3. Lag at half that rate, through the real service (API and consumer in one process).
port=$(free_port)
RESTRICTION_PORT=$port TRIPWIRE_MIN_USERS=100000000 "$bin/RestrictionConsumer" >"$tmp/all.log" 2>&1 & pids+=($!)
wait_for 60 curl -sf "http://127.0.0.1:$port/health/ready"
"$bin/RestrictionBench" lag "$REDIS_URL" "http://127.0.0.1:$port" "$rate" "$seconds"
kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pids=()

# 4. The server's own XADD rate.
redis-benchmark -p "$redis_port" -c 32 -n 200000 -q XADD bench:stream MAXLEN '~' 100000 '*' name purchase_made user_id u1 amount 12.5 \
    | tr '\r' '\n' | grep -E 'XADD|requests per second' | tail -1 | sed 's/^/redis-benchmark /'

# 5. Scale-out on Redis Cluster (three masters, three replicas; the service's cluster layout,
# 16 partitions): 1, 2 and 3 consumers, beside one consumer on one Redis, in alternating rounds.
cluster_events=${CLUSTER_EVENTS:-100000}
cluster_rounds=${CLUSTER_ROUNDS:-2}
cluster_ports=()
for _ in 1 2 3 4 5 6; do cluster_ports+=("$(free_cluster_port)"); done
trap 'redis_cluster_stop "$tmp/cluster" "${cluster_ports[@]}"; bench_stop' EXIT
redis_cluster_start "$tmp/cluster" "${cluster_ports[@]}"
nodes=$(printf '127.0.0.1:%s,' "${cluster_ports[@]}"); nodes=${nodes%,}
cluster_url=$(redis_url "${cluster_ports[0]}")
events_per_s() { python3 -c "import re,sys; print(re.search(r'([\d.]+) events/s', sys.argv[1]).group(1))" "$1"; }
echo "Redis Cluster: $cluster_events events per run, 500 users + one-off flagged users"
printf '%-6s %16s %16s %16s %16s %10s %10s\n' round "one Redis, 1" "cluster, 1" "cluster, 2" "cluster, 3" "3 vs 1" "3 vs Redis"
for ((round = 1; round <= cluster_rounds; round++)); do
    redis-cli -p "$redis_port" flushall >/dev/null
    single=$(events_per_s "$("$bin/RestrictionBench" consume "$REDIS_URL" "$cluster_events" 1)")
    on_cluster=()
    for consumers in 1 2 3; do
        redis-cli --cluster call "127.0.0.1:${cluster_ports[0]}" FLUSHALL >/dev/null 2>&1 || true
        on_cluster+=("$(events_per_s "$("$bin/RestrictionBench" consume "$cluster_url" "$cluster_events" "$consumers" "$nodes")")")
    done
    printf '%-6s %16s %16s %16s %16s %10s %10s\n' "$round" "$single" "${on_cluster[@]}" \
        "$(ratio "${on_cluster[2]}" "${on_cluster[0]}")" "$(ratio "${on_cluster[2]}" "$single")"
done
echo "(events applied per second; consumers in one process, a Redis client each; every server and consumer on this machine's two cores)"
