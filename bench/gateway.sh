#!/usr/bin/env bash
# bench/gateway.sh: the gateway's cost in one run (release build, loopback). FlagService
# answers GET /users/{id}/flags/{name}; the same request goes straight to it, through nginx
# and through the gateway (`/flags/users/…`), at CONNECTIONS=64, in ROUNDS=3 alternating
# rounds (medians, every round printed):
#  - nginx (Debian's package; a config written here: 2 workers, upstream keepalive 64, HTTP/1.1
#    upstream, `Connection` cleared), the anchor: what a mature reverse proxy costs here;
#  - gateway, rate limit off: the proxy alone;
#  - gateway, rate limit on (a limit no run reaches): plus one Redis GCRA round trip each;
#  - floor: GatewayBench, one Hummingbird route handing each GET to async-http-client and
#    nothing else (no routing table, checks, header rewriting, middleware or logs), which is
#    what the gateway's own stack costs before the gateway does anything;
# then the latency the gateway adds, from one connection's p50/p99 with and without it.
# Everything shares the machine's cores with wrk, so the ratio is a lower bound of what a
# gateway on its own host does.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/wrk.sh

connections=${CONNECTIONS:-64}
seconds=${SECONDS_PER_RUN:-8}
rounds=${ROUNDS:-3}
key=bench-admin-key
ensure_packages nginx
bench_start FlagService Gateway GatewayBench
# wrk is one client: its connections may all be in flight at once (the default share of one
# client is 32, past which the gateway answers 429).
export ADMIN_API_KEYS=$key LOG_LEVEL=error GATEWAY_INFLIGHT_PER_CLIENT=$connections
flag_port=$(free_port)
FLAG_PORT=$flag_port "$bin/FlagService" >"$tmp/flags.log" 2>&1 & pids+=($!)
open_port=$(free_port)
limited_port=$(free_port)
GATEWAY_PORT=$open_port GATEWAY_RATE_LIMIT=off FLAG_URL="http://127.0.0.1:$flag_port" \
    "$bin/Gateway" >"$tmp/gateway-open.log" 2>&1 & pids+=($!)
GATEWAY_PORT=$limited_port GATEWAY_RATE_LIMIT=1000000000/1 FLAG_URL="http://127.0.0.1:$flag_port" \
    "$bin/Gateway" >"$tmp/gateway-limited.log" 2>&1 & pids+=($!)
floor_port=$(free_port)
"$bin/GatewayBench" "$floor_port" "http://127.0.0.1:$flag_port" >"$tmp/floor.log" 2>&1 & pids+=($!)
nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    upstream flags { server 127.0.0.1:$flag_port; keepalive 64; }
    server {
        listen 127.0.0.1:$nginx_port;
        location /flags/ {
            proxy_pass http://flags/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
NGINX
/usr/sbin/nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" 2>"$tmp/nginx/stderr.log" & pids+=($!)
for port in "$flag_port" "$open_port" "$limited_port"; do wait_for 60 curl -sf "http://127.0.0.1:$port/health/ready"; done

curl -sf -XPOST "http://127.0.0.1:$flag_port/flags" -H "X-Api-Key: $key" -H 'content-type: application/json' \
    -d '{"flag_name":"bench_flag","status":true,"rollout_percentage":50}' >/dev/null
direct="http://127.0.0.1:$flag_port/users/alice123/flags/bench_flag"
open="http://127.0.0.1:$open_port/flags/users/alice123/flags/bench_flag"
limited="http://127.0.0.1:$limited_port/flags/users/alice123/flags/bench_flag"
floor="http://127.0.0.1:$floor_port/users/alice123/flags/bench_flag"
nginx="http://127.0.0.1:$nginx_port/flags/users/alice123/flags/bench_flag"
wait_for 60 curl -sf "$floor"
wait_for 30 curl -sf "$nginx"
if [ "$(curl -s "$direct")" != "$(curl -s "$open")" ] || [ "$(curl -s "$direct")" != "$(curl -s "$nginx")" ]; then
    echo "the gateway or nginx answers differently from FlagService" >&2; exit 1
fi
curl -s -D - -o /dev/null "$limited" | grep -qi '^x-ratelimit-limit' || { echo "the limited gateway sends no rate-limit headers" >&2; exit 1; }

for url in "$direct" "$nginx" "$open" "$limited" "$floor"; do wrk_run "$url" 8 2 >/dev/null; done # warm up
direct_runs=(); nginx_runs=(); open_runs=(); limited_runs=(); floor_runs=()
for round in $(seq "$rounds"); do
    direct_runs+=("$(wrk_run "$direct" "$connections" "$seconds")")
    nginx_runs+=("$(wrk_run "$nginx" "$connections" "$seconds")")
    open_runs+=("$(wrk_run "$open" "$connections" "$seconds")")
    limited_runs+=("$(wrk_run "$limited" "$connections" "$seconds")")
    floor_runs+=("$(wrk_run "$floor" "$connections" "$seconds")")
    i=$((round - 1))
    echo "round $round req/s: direct ${direct_runs[$i]%% *}, nginx ${nginx_runs[$i]%% *}, gateway ${open_runs[$i]%% *}," \
        "gateway+limit ${limited_runs[$i]%% *}, floor ${floor_runs[$i]%% *}"
done
read -r d_rps d_p50 d_p99 d_bad d_err <<<"$(wrk_median "${direct_runs[@]}")"
read -r n_rps n_p50 n_p99 n_bad n_err <<<"$(wrk_median "${nginx_runs[@]}")"
read -r o_rps o_p50 o_p99 o_bad o_err <<<"$(wrk_median "${open_runs[@]}")"
read -r l_rps l_p50 l_p99 l_bad l_err <<<"$(wrk_median "${limited_runs[@]}")"
read -r f_rps f_p50 f_p99 f_bad f_err <<<"$(wrk_median "${floor_runs[@]}")"
printf '%-36s %10s %9s %9s %8s %9s\n' "c=$connections, median of $rounds" req/s p50_ms p99_ms non-2xx "vs direct"
printf '%-36s %10s %9s %9s %8s %9s\n' "direct to FlagService" "$d_rps" "$d_p50" "$d_p99" "$d_bad" 1.00
printf '%-36s %10s %9s %9s %8s %9s\n' "nginx (2 workers, keepalive 64)" "$n_rps" "$n_p50" "$n_p99" "$n_bad" "$(ratio "$n_rps" "$d_rps")"
printf '%-36s %10s %9s %9s %8s %9s\n' "gateway, rate limit off" "$o_rps" "$o_p50" "$o_p99" "$o_bad" "$(ratio "$o_rps" "$d_rps")"
printf '%-36s %10s %9s %9s %8s %9s\n' "gateway, rate limit on (Redis)" "$l_rps" "$l_p50" "$l_p99" "$l_bad" "$(ratio "$l_rps" "$d_rps")"
printf '%-36s %10s %9s %9s %8s %9s\n' "floor: Hummingbird + AHC alone" "$f_rps" "$f_p50" "$f_p99" "$f_bad" "$(ratio "$f_rps" "$d_rps")"
echo "gateway (limit off) / floor: $(ratio "$o_rps" "$f_rps")"
echo "gateway (limit off) / nginx: $(ratio "$o_rps" "$n_rps") (aim 0.9); limit on / limit off: $(ratio "$l_rps" "$o_rps") (aim 0.8)"
echo "rounds (gateway/direct, limit off): $(for i in $(seq 0 $((rounds - 1))); do
    ratio "${open_runs[$i]%% *}" "${direct_runs[$i]%% *}"; done | tr '\n' ' ')"

# One connection: what a single caller waits for in addition.
read -r _ d1_p50 d1_p99 _ <<<"$(wrk_run "$direct" 1 "$seconds")"
read -r _ n1_p50 n1_p99 _ <<<"$(wrk_run "$nginx" 1 "$seconds")"
read -r _ o1_p50 o1_p99 _ <<<"$(wrk_run "$open" 1 "$seconds")"
read -r _ l1_p50 l1_p99 _ <<<"$(wrk_run "$limited" 1 "$seconds")"
added() { python3 -c "print(f'{($1 - $2) * 1000:.0f}')"; }
echo "added latency at c=1: nginx p50 +$(added "$n1_p50" "$d1_p50") µs, p99 +$(added "$n1_p99" "$d1_p99") µs;" \
    "gateway limit off p50 +$(added "$o1_p50" "$d1_p50") µs, p99 +$(added "$o1_p99" "$d1_p99") µs;" \
    "limit on p50 +$(added "$l1_p50" "$d1_p50") µs, p99 +$(added "$l1_p99" "$d1_p99") µs (direct p50 $d1_p50 ms)"
echo "added latency at c=$connections: limit off p50 +$(added "$o_p50" "$d_p50") µs, p99 +$(added "$o_p99" "$d_p99") µs"
echo "(wrk -t2, release, loopback, one machine: wrk, gateway and FlagService share its cores)"
