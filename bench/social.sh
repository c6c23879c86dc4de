#!/usr/bin/env bash
# bench/social.sh: GET /get_post_info with Profile up and with Profile's breaker open, beside
# a bare route served by the same PostService process, in one run (release build, wrk at
# CONNECTIONS=64 for SECONDS=10 each, loopback). The open case should be at least as fast as
# the up case, and its p99 far under the Profile call timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/wrk.sh

connections=${CONNECTIONS:-64}
seconds=${SECONDS_PER_RUN:-10}
timeout_ms=800
profile_port=$(free_port); post_port=$(free_port)
bench_start ProfileService PostService
export PROFILE_URL="http://127.0.0.1:$profile_port" PROFILE_TIMEOUT_MS=$timeout_ms LOG_LEVEL=error
PROFILE_PORT=$profile_port "$bin/ProfileService" >"$tmp/profile.log" 2>&1 & profile_pid=$!; pids+=($profile_pid)
POST_PORT=$post_port BENCH_BARE_ROUTE=1 BENCH_BARE_BYTES=300 "$bin/PostService" >"$tmp/post.log" 2>&1 & pids+=($!)
wait_for 60 curl -sf "http://127.0.0.1:$profile_port/health/ready"
wait_for 60 curl -sf "http://127.0.0.1:$post_port/health/ready"

user=$(curl -sf -XPOST "http://127.0.0.1:$profile_port/insert_new_user" -d '{"user_name":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["user_id"])')
post=$(curl -sf -XPOST "http://127.0.0.1:$post_port/insert_post" -d "{\"user_id\":$user,\"title\":\"bench\",\"content\":\"a post to read\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["post_id"])')
info="http://127.0.0.1:$post_port/get_post_info?post_id=$post"
echo "post_info body: $(curl -s "$info" | wc -c) bytes; bare body: $(curl -s "http://127.0.0.1:$post_port/_bench/bare" | wc -c) bytes"

wrk_run "$info" 8 2 >/dev/null # warm up
read -r bare_rps bare_p50 bare_p99 bare_bad bare_err <<<"$(wrk_run "http://127.0.0.1:$post_port/_bench/bare" "$connections" "$seconds")"
read -r up_rps up_p50 up_p99 up_bad up_err <<<"$(wrk_run "$info" "$connections" "$seconds")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$info")" = 200 ] && curl -s -D - -o /dev/null "$info" | grep -qi x-fallback && echo "warning: up case answered from cache"

kill -KILL "$profile_pid"
# Wait for the breaker to open (gauge 2); a few requests drive it there.
for _ in $(seq 1 100); do
    curl -s -o /dev/null "$info"
    curl -s "http://127.0.0.1:$post_port/metrics" | grep -q 'breaker_state{caller="post",dependency="profile"} 2' && break
    sleep 0.05
done
read -r open_rps open_p50 open_p99 open_bad open_err <<<"$(wrk_run "$info" "$connections" "$seconds")"
fallback=$(curl -s -D - -o /dev/null "$info" | grep -ci 'x-fallback: cache' || true)

printf '%-28s %10s %9s %9s %8s %8s\n' case req/s p50_ms p99_ms non-2xx "vs bare"
printf '%-28s %10s %9s %9s %8s %8s\n' "bare route (same process)" "$bare_rps" "$bare_p50" "$bare_p99" "$bare_bad" 1.00
printf '%-28s %10s %9s %9s %8s %8s\n' "get_post_info, Profile up" "$up_rps" "$up_p50" "$up_p99" "$up_bad" "$(ratio "$up_rps" "$bare_rps")"
printf '%-28s %10s %9s %9s %8s %8s\n' "get_post_info, breaker open" "$open_rps" "$open_p50" "$open_p99" "$open_bad" "$(ratio "$open_rps" "$bare_rps")"
echo "open/up throughput: $(ratio "$open_rps" "$up_rps"); open p99 / call timeout ($timeout_ms ms): $(python3 -c "print(f'{$open_p99/$timeout_ms:.3f}')"); fallback header on open answers: $fallback"
echo "(wrk -t2 -c$connections -d${seconds}s, release, loopback, one machine)"
