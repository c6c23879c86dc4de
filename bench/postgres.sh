#!/usr/bin/env bash
# bench/postgres.sh: the PostgreSQL path of a service against pgbench on the same server, in
# one run (release build, loopback). ProfileService's primary-key lookup
# (`GET /get_user_info?user_id=<random of USERS=100000>`) and its insert
# (`POST /insert_new_user`) at CONNECTIONS=64, beside pgbench running the very same statements
# (`-M prepared`, 64 clients, its per-transaction latencies) and the bare route of the same
# process; ROUNDS=3 alternating rounds of SECONDS_PER_RUN=10 s, every round printed, medians
# and ratios at the end. The PostgreSQL is bench_start's throwaway one (fsync off), so the
# insert measures the path, not the disk.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/wrk.sh

connections=${CONNECTIONS:-64}
seconds=${SECONDS_PER_RUN:-10}
rounds=${ROUNDS:-3}
users=${USERS:-100000}
bench_start ProfileService
export LOG_LEVEL=error
pg_bin_dir=$(pg_bin)

port=$(free_port)
PROFILE_PORT=$port BENCH_BARE_ROUTE=1 BENCH_BARE_BYTES=80 "$bin/ProfileService" >"$tmp/profile.log" 2>&1 & pids+=($!)
base="http://127.0.0.1:$port"
wait_for 60 curl -sf "$base/health/ready"
psql_bench() { "$pg_bin_dir/psql" -q -X -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }
psql_bench -c "INSERT INTO social.users (user_name) SELECT 'user ' || i FROM generate_series(1, $users) AS i" -c "VACUUM ANALYZE social.users"
echo "lookup answer: $(curl -s "$base/get_user_info?user_id=42" | wc -c) bytes; bare: $(curl -s "$base/_bench/bare" | wc -c) bytes"

cat >"$tmp/lookup.lua" <<LUA
request = function()
  return wrk.format("GET", "/get_user_info?user_id=" .. math.random(1, $users))
end
LUA
cat >"$tmp/insert.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"user_name":"bench user"}'
wrk.headers["Content-Type"] = "application/json"
LUA
# The statements of ProfileStore, word for word.
cat >"$tmp/lookup.sql" <<SQL
\set id random(1, $users)
SELECT user_id, user_name, created_at FROM social.users WHERE user_id = :id;
SQL
cat >"$tmp/insert.sql" <<'SQL'
INSERT INTO social.users (user_name) VALUES ('bench user') RETURNING user_id, user_name, created_at;
SQL

wrk_run "$base/get_user_info?user_id=1" 8 2 "$tmp/lookup.lua" >/dev/null # warm up
bare_runs=(); lookup_runs=(); pg_lookup_runs=(); insert_runs=(); pg_insert_runs=()
for ((round = 0; round < rounds; round++)); do
    bare_runs+=("$(wrk_run "$base/_bench/bare" "$connections" "$seconds")")
    pg_lookup_runs+=("$(pgbench_run "$pg_port" "$connections" "$seconds" lookup.sql -M prepared)")
    lookup_runs+=("$(wrk_run "$base/get_user_info" "$connections" "$seconds" "$tmp/lookup.lua")")
    pg_insert_runs+=("$(pgbench_run "$pg_port" "$connections" "$seconds" insert.sql -M prepared)")
    insert_runs+=("$(wrk_run "$base/insert_new_user" "$connections" "$seconds" "$tmp/insert.lua")")
    echo "round $((round + 1)): bare ${bare_runs[-1]%% *}/s; lookup: pgbench ${pg_lookup_runs[-1]%% *}/s, route ${lookup_runs[-1]%% *}/s; insert: pgbench ${pg_insert_runs[-1]%% *}/s, route ${insert_runs[-1]%% *}/s"
done
read -r bare_rps bare_p50 bare_p99 _ _ <<<"$(wrk_median "${bare_runs[@]}")"
read -r lookup_rps lookup_p50 lookup_p99 lookup_bad _ <<<"$(wrk_median "${lookup_runs[@]}")"
read -r insert_rps insert_p50 insert_p99 insert_bad _ <<<"$(wrk_median "${insert_runs[@]}")"
read -r pg_lookup_tps pg_lookup_p50 pg_lookup_p99 pg_lookup_failed <<<"$(wrk_median "${pg_lookup_runs[@]}")"
read -r pg_insert_tps pg_insert_p50 pg_insert_p99 pg_insert_failed <<<"$(wrk_median "${pg_insert_runs[@]}")"
printf '%-36s %10s %9s %9s %8s %11s\n' "case, c=$connections" "per s" p50_ms p99_ms failed "vs pgbench"
printf '%-36s %10s %9s %9s %8s %11s\n' "bare route (same process)" "$bare_rps" "$bare_p50" "$bare_p99" 0 -
printf '%-36s %10s %9s %9s %8s %11s\n' "pgbench lookup (-M prepared)" "$pg_lookup_tps" "$pg_lookup_p50" "$pg_lookup_p99" "$pg_lookup_failed" 1.00
printf '%-36s %10s %9s %9s %8s %11s\n' "GET /get_user_info" "$lookup_rps" "$lookup_p50" "$lookup_p99" "$lookup_bad" "$(ratio "$lookup_rps" "$pg_lookup_tps")"
printf '%-36s %10s %9s %9s %8s %11s\n' "pgbench insert (-M prepared)" "$pg_insert_tps" "$pg_insert_p50" "$pg_insert_p99" "$pg_insert_failed" 1.00
printf '%-36s %10s %9s %9s %8s %11s\n' "POST /insert_new_user" "$insert_rps" "$insert_p50" "$insert_p99" "$insert_bad" "$(ratio "$insert_rps" "$pg_insert_tps")"
echo "(wrk -t2, pgbench -j2, release, loopback, one machine; PostgreSQL $("$pg_bin_dir/postgres" --version | awk '{print $3}'), fsync off)"
