#!/usr/bin/env bash
# bench/analytics.sh: AnalyticsService in one run (release build, loopback):
#  1. POST /api/metrics at CONNECTIONS=64 with a limit that admits everything, beside the bare
#     route of the same process; POST /api/metrics/batch (BATCH=1000 points per request) in
#     points/s beside redis-benchmark XADD of a point on the same machine; ROUNDS=3
#     alternating rounds, every round printed. PostgreSQL here is durable (fsync on), as
#     scripts/run.sh runs it: a 201 waits for its commit.
#  2. GET /api/metrics/summary over one UTC day of POINTS=10000000 points, uncached (the cache
#     TTL is 1 ms, so every request computes), p50/p99 at one connection, beside a plain
#     `SELECT avg(value), count(*)` over the same points in a raw table (pgbench, one
#     connection, its per-transaction latencies), ROUNDS alternating rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/wrk.sh

connections=${CONNECTIONS:-64}
seconds=${SECONDS_PER_RUN:-10}
rounds=${ROUNDS:-3}
batch=${BATCH:-1000}
points=${POINTS:-10000000}
bench_start AnalyticsService
export LOG_LEVEL=error ADMIN_API_KEYS=bench-key
pg_bin_dir=$(pg_bin)

# A durable PostgreSQL for the service (the throwaway one of bench_start runs without fsync).
durable_port=$(free_port)
pg_init "$tmp/pg-durable"
pg_start "$tmp/pg-durable" "$durable_port"
trap 'pg_stop "$tmp/pg-durable" immediate; bench_stop' EXIT

port=$(free_port)
ANALYTICS_PORT=$port DATABASE_URL=$(postgres_url "$durable_port") BENCH_BARE_ROUTE=1 BENCH_BARE_BYTES=100 \
    ANALYTICS_RATE_LIMIT=1000000000/1 ANALYTICS_EXTERNAL_URL= ANALYTICS_CACHE_TTL_MS=1 \
    "$bin/AnalyticsService" >"$tmp/analytics.log" 2>&1 & pids+=($!)
wait_for 60 curl -sf "http://127.0.0.1:$port/health/ready"
base="http://127.0.0.1:$port"
echo "point answer: $(curl -s -XPOST "$base/api/metrics" -H 'Content-Type: application/json' \
    -d "{\"type\":\"cpu\",\"value\":1,\"timestamp\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}" | wc -c) bytes; bare: $(curl -s "$base/_bench/bare" | wc -c) bytes"

cat >"$tmp/single.lua" <<'LUA'
local requests = {}
local index = 0
init = function(args)
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
  for i = 0, 9999 do
    local body = '{"type":"cpu.' .. (i % 16) .. '","value":' .. (i % 977) / 10 .. ',"timestamp":"' .. now .. '"}'
    requests[i + 1] = wrk.format("POST", "/api/metrics", {["Content-Type"] = "application/json"}, body)
  end
end
request = function()
  index = index % #requests + 1
  return requests[index]
end
LUA
python3 - "$batch" >"$tmp/batch.lua" <<'PY'
import sys, datetime
n = int(sys.argv[1])
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
points = ",".join('{"type":"cpu.%d","value":%s,"timestamp":"%s"}' % (i % 16, (i % 977) / 10, now) for i in range(n))
print("local body = '[%s]'" % points)
print('request = function() return wrk.format("POST", "/api/metrics/batch", {["Content-Type"] = "application/json"}, body) end')
PY
wrk_run "$base/api/metrics" 8 2 "$tmp/single.lua" >/dev/null # warm up
bare_runs=(); single_runs=(); batch_runs=(); xadd_runs=()
for ((round = 0; round < rounds; round++)); do
    bare_runs+=("$(wrk_run "$base/_bench/bare" "$connections" "$seconds")")
    single_runs+=("$(wrk_run "$base/api/metrics" "$connections" "$seconds" "$tmp/single.lua")")
    batch_runs+=("$(wrk_run "$base/api/metrics/batch" 8 "$seconds" "$tmp/batch.lua")")
    xadd_runs+=("$(redis-benchmark -p "$redis_port" -c "$connections" -n 300000 -q XADD bench:points MAXLEN '~' 1000000 '*' \
        p '{"type":"cpu.1","value":12.5,"timestamp":"2026-12-02T00:00:00Z"}' \
        | tr '\r' '\n' | grep -oE '[0-9.]+ requests per second' | tail -1 | cut -d' ' -f1)")
    echo "round $((round + 1)): bare ${bare_runs[-1]%% *}/s, single ${single_runs[-1]%% *}/s, batch ${batch_runs[-1]%% *} requests/s, XADD ${xadd_runs[-1]}/s"
done
read -r bare_rps bare_p50 bare_p99 _ _ <<<"$(wrk_median "${bare_runs[@]}")"
read -r single_rps single_p50 single_p99 single_bad _ <<<"$(wrk_median "${single_runs[@]}")"
read -r batch_rps batch_p50 batch_p99 batch_bad _ <<<"$(wrk_median "${batch_runs[@]}")"
xadd=$(printf '%s\n' "${xadd_runs[@]}" | sort -n | sed -n "$(((rounds + 1) / 2))p")
batch_points=$(python3 -c "print(int($batch_rps * $batch))")
printf '%-40s %12s %9s %9s %8s %9s %9s\n' case points/s p50_ms p99_ms non-2xx "vs bare" "vs XADD"
printf '%-40s %12s %9s %9s %8s %9s %9s\n' "bare route (requests/s)" "$bare_rps" "$bare_p50" "$bare_p99" 0 1.00 -
printf '%-40s %12s %9s %9s %8s %9s %9s\n' "POST /api/metrics, c=$connections" "$single_rps" "$single_p50" "$single_p99" "$single_bad" "$(ratio "$single_rps" "$bare_rps")" "$(ratio "$single_rps" "$xadd")"
printf '%-40s %12s %9s %9s %8s %9s %9s\n' "POST /api/metrics/batch x$batch, c=8" "$batch_points" "$batch_p50" "$batch_p99" "$batch_bad" - "$(ratio "$batch_points" "$xadd")"
printf '%-40s %12s\n' "redis-benchmark XADD -c$connections" "$xadd"
echo "statements per request (group commit): $(curl -s "$base/metrics" | awk '/^analytics_write_requests /{r=$2} /^analytics_write_statements /{s=$2} END {printf "%.1f requests per insert", r/s}')"

# 2. A summary over one day of $points points, against a raw scan of the same points.
day=$(date -u -d yesterday +%Y-%m-%d)
next=$(date -u -d today +%Y-%m-%d)
psql_bench() { "$pg_bin_dir/psql" -q -X -v ON_ERROR_STOP=1 "$(postgres_url "$durable_port")" "$@"; }
echo "loading $points points over $day (queued for the service's rollups, and into a raw table)"
start=$(date +%s)
for ((offset = 0; offset < points; offset += 1000000)); do
    psql_bench -c "INSERT INTO analytics.points (type, ts, value)
        SELECT 'bench', timestamptz '$day 00:00:00+00' + (i * 86400.0 / $points) * interval '1 second',
               round((-ln(1 - ((i * 2654435761) % 1000003) / 1000003.0) * 40)::numeric, 3)::float8
        FROM generate_series($offset, least($offset + 999999, $points - 1)) AS i"
done
loaded=$(date +%s)
psql_bench -c "CREATE TABLE bench_raw AS SELECT type, ts, value FROM analytics.points WHERE type = 'bench'" \
    -c "CREATE INDEX ON bench_raw (type, ts)" -c "VACUUM ANALYZE bench_raw"
# The service's rollups drain the queue meanwhile; the summary is measured on rolled-up buckets.
until [ "$(psql_bench -tA -c "SELECT count(*) FROM analytics.unrolled")" = 0 ]; do sleep 1; done
rolled=$(date +%s)
psql_bench -c "VACUUM ANALYZE analytics.buckets" -c "VACUUM ANALYZE analytics.sketch_bins" -c "VACUUM ANALYZE analytics.unrolled"
echo "loaded in $((loaded - start)) s, rolled up by $((rolled - start)) s ($(curl -s "$base/metrics" | awk '/^analytics_points_rolled_up_total /{print $2}') points by the service); sketch bins for the day: $(psql_bench -tA -c "SELECT count(*) FROM analytics.sketch_bins WHERE type = 'bench' AND resolution = 'd'")"
summary="$base/api/metrics/summary?type=bench&from=${day}T00:00:00Z&to=${next}T00:00:00Z"
echo "summary: $(curl -s "$summary" | python3 -c 'import json,sys; d=json.load(sys.stdin); print({k: d[k] for k in ("count","average_value","p50","p95","p99")})')"
echo "raw:     $(psql_bench -tA -c "SELECT count(*), avg(value) FROM bench_raw WHERE type = 'bench' AND ts >= '$day' AND ts < '$next'")"
echo "SELECT avg(value), count(*) FROM bench_raw WHERE type = 'bench' AND ts >= '$day 00:00:00+00' AND ts < '$next 00:00:00+00';" >"$tmp/raw.sql"
summary_runs=(); hourly_runs=(); raw_runs=()
for ((round = 0; round < rounds; round++)); do
    summary_runs+=("$(wrk_run "$summary" 1 "$seconds")")
    hourly_runs+=("$(wrk_run "$summary&bucket=hour&tz=Europe/Paris" 1 "$seconds")")
    raw_runs+=("$(pgbench_run "$durable_port" 1 "$seconds" raw.sql)")
    echo "round $((round + 1)): summary ${summary_runs[-1]}, hourly series ${hourly_runs[-1]}, raw avg (tps p50 p99 failed) ${raw_runs[-1]}"
done
read -r summary_rps summary_p50 summary_p99 summary_bad _ <<<"$(wrk_median "${summary_runs[@]}")"
read -r hourly_rps hourly_p50 hourly_p99 hourly_bad _ <<<"$(wrk_median "${hourly_runs[@]}")"
read -r _ raw_p50 raw_p99 _ <<<"$(printf '%s\n' "${raw_runs[@]}" | sort -n -k2,2 | sed -n "$(((rounds + 1) / 2))p")"
printf '%-44s %9s %9s %8s %10s\n' "one day, $points points, c=1" p50_ms p99_ms non-2xx "raw / this"
printf '%-44s %9s %9s %8s %10s\n' "raw SELECT avg(value), count(*)" "$raw_p50" "$raw_p99" 0 1.0
printf '%-44s %9s %9s %8s %10s\n' "GET summary (uncached)" "$summary_p50" "$summary_p99" "$summary_bad" "$(python3 -c "print(f'{$raw_p50 / $summary_p50:.0f}x')")"
printf '%-44s %9s %9s %8s %10s\n' "GET summary, bucket=hour, Europe/Paris" "$hourly_p50" "$hourly_p99" "$hourly_bad" "$(python3 -c "print(f'{$raw_p50 / $hourly_p50:.0f}x')")"
echo "(wrk -t1/2, release, loopback, one machine; PostgreSQL $("$pg_bin_dir/postgres" --version | awk '{print $3}'), durable)"
