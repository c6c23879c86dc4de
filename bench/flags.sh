#!/usr/bin/env bash
# bench/flags.sh: FlagService in one run (release build, loopback):
#  1. GET /users/{id}/flags/{name} at CONNECTIONS=64 beside a bare route returning a JSON body
#     of the same size from the same process (BENCH_BARE_ROUTE), with p50/p99: medians of
#     ROUNDS=3 alternating rounds;
#  2. in-process evaluations per second on one thread, ten rules per flag;
#  3. propagation: from a write's 2xx until all three instances answer the new value, p99
#     over WRITES=100 writes.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/wrk.sh

connections=${CONNECTIONS:-64}
seconds=${SECONDS_PER_RUN:-10}
rounds=${ROUNDS:-3}
writes=${WRITES:-100}
key=bench-admin-key
bench_start FlagService FlagBench
export ADMIN_API_KEYS=$key LOG_LEVEL=error
ports=()
for i in 1 2 3; do
    port=$(free_port); ports+=("$port")
    # The evaluation answer below is 106 bytes; the bare route answers as many.
    FLAG_PORT=$port INSTANCE_ID="bench-$i" BENCH_BARE_ROUTE=1 BENCH_BARE_BYTES=106 "$bin/FlagService" >"$tmp/flags-$i.log" 2>&1 & pids+=($!)
done
for port in "${ports[@]}"; do wait_for 60 curl -sf "http://127.0.0.1:$port/health/ready"; done
base="http://127.0.0.1:${ports[0]}"
curl -sf -XPOST "$base/flags" -H "X-Api-Key: $key" -H 'content-type: application/json' \
    -d '{"flag_name":"bench_flag","status":true,"rollout_percentage":50}' >/dev/null
eval_url="$base/users/alice123/flags/bench_flag"
echo "evaluation body: $(curl -s "$eval_url" | wc -c) bytes; bare body: $(curl -s "$base/_bench/bare" | wc -c) bytes"

wrk_run "$eval_url" 8 2 >/dev/null # warm up
# Alternating rounds, medians: one pair of runs on a shared machine can be off by 30 %.
bare_runs=(); eval_runs=(); ratios=()
for ((round = 0; round < rounds; round++)); do
    bare_runs+=("$(wrk_run "$base/_bench/bare" "$connections" "$seconds")")
    eval_runs+=("$(wrk_run "$eval_url" "$connections" "$seconds")")
    ratios+=("$(ratio "${eval_runs[-1]%% *}" "${bare_runs[-1]%% *}")")
done
read -r bare_rps bare_p50 bare_p99 bare_bad bare_err <<<"$(wrk_median "${bare_runs[@]}")"
read -r eval_rps eval_p50 eval_p99 eval_bad eval_err <<<"$(wrk_median "${eval_runs[@]}")"
printf '%-34s %10s %9s %9s %8s %8s\n' case req/s p50_ms p99_ms non-2xx "vs bare"
printf '%-34s %10s %9s %9s %8s %8s\n' "bare route (same process)" "$bare_rps" "$bare_p50" "$bare_p99" "$bare_bad" 1.00
printf '%-34s %10s %9s %9s %8s %8s\n' "GET /users/{id}/flags/{name}" "$eval_rps" "$eval_p50" "$eval_p99" "$eval_bad" "$(ratio "$eval_rps" "$bare_rps")"
echo "(medians of $rounds alternating rounds; each round's ratio: ${ratios[*]})"
echo "(wrk -t2 -c$connections -d${seconds}s, release, loopback, one machine)"

"$bin/FlagBench" evaluate 5
"$bin/FlagBench" propagate "$writes" "$key" "${ports[@]/#/http://127.0.0.1:}"
