#!/usr/bin/env bash
# bench/stream.sh: StreamFilter in one run (release build, loopback):
#  1. matching on one core with FILTERS_SMALL=10000 and FILTERS_LARGE=100000 filters, the
#     index beside a scan of every filter, 3 alternating rounds each;
#  2. POST /events at CONNECTIONS=64, one event per request and BATCH=100 per request, beside
#     the bare route of the same process and redis-benchmark XADD on the same Redis, ROUNDS=3
#     alternating rounds (role api: no worker competes);
#  3. fan-out: CLIENTS=10000 WebSocket subscribers (NIO clients, one process) on one
#     instance, each with its own filter, RATE=2500 events/s for SECONDS_PER_RUN=10 s (each
#     event matches CLIENTS/1000 filters: 25,000 deliveries/s), produce-to-receipt p50/p99
#     and the instance's RSS per connection, beside a bare hummingbird-websocket server
#     fanning the same batches out to the same clients.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/wrk.sh

connections=${CONNECTIONS:-64}
seconds=${SECONDS_PER_RUN:-10}
rounds=${ROUNDS:-3}
batch=${BATCH:-100}
clients=${CLIENTS:-10000}
rate=${RATE:-2500}
# One end of every connection in each process (the clients' and the server's).
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((clients + 1000)) ] || { echo "need more than $((clients + 1000)) open files, have $(ulimit -n)" >&2; exit 1; }
bench_start StreamFilter StreamBench
export LOG_LEVEL=error ADMIN_API_KEYS=bench-key

# 1. Matching.
"$bin/StreamBench" match "${FILTERS_SMALL:-10000}"
"$bin/StreamBench" match "${FILTERS_LARGE:-100000}"

# 2. Produce.
port=$(free_port)
STREAM_PORT=$port STREAM_ROLE=api BENCH_BARE_ROUTE=1 BENCH_BARE_BYTES=60 "$bin/StreamFilter" >"$tmp/api.log" 2>&1 & pids+=($!)
wait_for 60 curl -sf "http://127.0.0.1:$port/health/ready"
base="http://127.0.0.1:$port"
cat >"$tmp/single.lua" <<'LUA'
local requests = {}
local index = 0
init = function(args)
  for i = 0, 9999 do
    local body = '{"event_type":"purchase","user_id":"u' .. i .. '","user_tier":"premium","amount":120,"properties":{"sku":"s' .. (i % 97) .. '"}}'
    requests[i + 1] = wrk.format("POST", "/events", {["Content-Type"] = "application/json"}, body)
  end
end
request = function()
  index = index % #requests + 1
  return requests[index]
end
LUA
python3 - "$batch" >"$tmp/batch.lua" <<'PY'
import sys
n = int(sys.argv[1])
events = ",".join('{"event_type":"purchase","user_id":"u%d","user_tier":"premium","amount":120,"properties":{"sku":"s%d"}}' % (i, i % 97) for i in range(n))
print('local body = \'[%s]\'' % events)
print('request = function() return wrk.format("POST", "/events", {["Content-Type"] = "application/json"}, body) end')
PY
wrk_run "$base/events" 8 2 "$tmp/single.lua" >/dev/null # warm up
bare_runs=(); single_runs=(); batch_runs=(); xadd_runs=()
for ((round = 0; round < rounds; round++)); do
    bare_runs+=("$(wrk_run "$base/_bench/bare" "$connections" "$seconds")")
    single_runs+=("$(wrk_run "$base/events" "$connections" "$seconds" "$tmp/single.lua")")
    batch_runs+=("$(wrk_run "$base/events" "$connections" "$seconds" "$tmp/batch.lua")")
    xadd_runs+=("$(redis-benchmark -p "$redis_port" -c "$connections" -n 300000 -q XADD bench:stream MAXLEN '~' 1000000 '*' e \
        '{"event_type":"purchase","user_id":"u1","user_tier":"premium","amount":120,"properties":{"sku":"s1"},"timestamp":"2026-12-02T00:00:00.000Z"}' \
        | tr '\r' '\n' | grep -oE '[0-9.]+ requests per second' | tail -1 | cut -d' ' -f1)")
    echo "round $((round + 1)): bare ${bare_runs[-1]%% *}/s, single ${single_runs[-1]%% *}/s, batch ${batch_runs[-1]%% *} requests/s, XADD ${xadd_runs[-1]}/s"
    redis-cli -p "$redis_port" flushall >/dev/null
done
read -r bare_rps bare_p50 bare_p99 _ _ <<<"$(wrk_median "${bare_runs[@]}")"
read -r single_rps single_p50 single_p99 single_bad _ <<<"$(wrk_median "${single_runs[@]}")"
read -r batch_rps batch_p50 batch_p99 batch_bad _ <<<"$(wrk_median "${batch_runs[@]}")"
xadd=$(printf '%s\n' "${xadd_runs[@]}" | sort -n | sed -n "$(((rounds + 1) / 2))p")
batch_events=$(python3 -c "print(int($batch_rps * $batch))")
printf '%-36s %12s %9s %9s %8s %10s %10s\n' case events/s p50_ms p99_ms non-2xx "vs bare" "vs XADD"
printf '%-36s %12s %9s %9s %8s %10s %10s\n' "bare route (requests/s)" "$bare_rps" "$bare_p50" "$bare_p99" 0 1.00 -
printf '%-36s %12s %9s %9s %8s %10s %10s\n' "POST /events, one event" "$single_rps" "$single_p50" "$single_p99" "$single_bad" "$(ratio "$single_rps" "$bare_rps")" "$(ratio "$single_rps" "$xadd")"
printf '%-36s %12s %9s %9s %8s %10s %10s\n' "POST /events, $batch per request" "$batch_events" "$batch_p50" "$batch_p99" "$batch_bad" - "$(ratio "$batch_events" "$xadd")"
printf '%-36s %12s\n' "redis-benchmark XADD -c$connections" "$xadd"
echo "(medians of $rounds alternating rounds; wrk -t2 -c$connections -d${seconds}s, release, loopback, one machine)"
kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pids=()
redis-cli -p "$redis_port" flushall >/dev/null

# 3. Fan-out, the service and then the bare server, to the same clients.
port=$(free_port)
# The clients plus the producer's connections: above the default cap of 10,000 connections.
STREAM_PORT=$port STREAM_PARTITIONS=8 HTTP_MAX_CONNECTIONS=$((clients + 1000)) "$bin/StreamFilter" >"$tmp/stream.log" 2>&1 & pids+=($!)
stream_pid=$!
wait_for 60 curl -sf "http://127.0.0.1:$port/health/ready"
"$bin/StreamBench" filters "http://127.0.0.1:$port" "$clients" bench-key
echo "StreamFilter:"
"$bin/StreamBench" drive "http://127.0.0.1:$port" "$clients" "$rate" "$seconds" "$stream_pid"
kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pids=()
port=$(free_port)
"$bin/StreamBench" bare "$port" "$clients" >"$tmp/bare.log" 2>&1 & pids+=($!)
bare_pid=$!
wait_for 60 bash -c "curl -s -o /dev/null http://127.0.0.1:$port/"
echo "bare hummingbird-websocket fan-out:"
"$bin/StreamBench" drive "http://127.0.0.1:$port" "$clients" "$rate" "$seconds" "$bare_pid"
