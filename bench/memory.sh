#!/usr/bin/env bash
# bench/memory.sh: what each of the eight executables holds (release build, loopback), all
# started against the same Redis and PostgreSQL: resident memory (VmRSS, with its anonymous
# and file-backed parts) and threads once ready and idle for IDLE_SECONDS=5, and again after
# IDLE_CONNECTIONS=1000 keep-alive connections each made one request and stayed open.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/wrk.sh

idle_seconds=${IDLE_SECONDS:-5}
connections=${IDLE_CONNECTIONS:-1000}
services=(
    "Gateway GATEWAY_PORT"
    "FlagService FLAG_PORT"
    "RestrictionConsumer RESTRICTION_PORT"
    "AnalyticsService ANALYTICS_PORT"
    "StreamFilter STREAM_PORT"
    "ProfileService PROFILE_PORT"
    "PostService POST_PORT"
    "FeedService FEED_PORT"
)
names=()
for entry in "${services[@]}"; do names+=("${entry%% *}"); done
bench_start "${names[@]}"
export LOG_LEVEL=error ANALYTICS_EXTERNAL_URL=
ulimit -n "$(ulimit -Hn)"

declare -A ports service_pids
for entry in "${services[@]}"; do
    read -r name variable <<<"$entry"
    ports[$name]=$(free_port)
    export "$variable=${ports[$name]}"
done
for name in "${names[@]}"; do
    "$bin/$name" >"$tmp/$name.log" 2>&1 & service_pids[$name]=$!; pids+=($!)
done
for name in "${names[@]}"; do wait_for 60 curl -sf "http://127.0.0.1:${ports[$name]}/health/ready"; done

# name -> "rss_kib anon_kib file_kib threads"
reading() {
    awk '/^VmRSS:/{r=$2} /^RssAnon:/{a=$2} /^RssFile:/{f=$2} /^Threads:/{t=$2} END {print r, a, f, t}' "/proc/${service_pids[$1]}/status"
}
# port count -> holds COUNT keep-alive connections that each made one request, until killed
hold_connections() {
    python3 - "$1" "$2" <<'PY' &
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
request = b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
held = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(request)
    held.append(s)
for s in held:
    s.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
print("ready", flush=True)
time.sleep(3600)
PY
}

sleep "$idle_seconds"
declare -A idle busy
for name in "${names[@]}"; do idle[$name]=$(reading "$name"); done
for name in "${names[@]}"; do
    hold_connections "${ports[$name]}" "$connections" >"$tmp/hold.out"
    holder=$!
    wait_for 60 grep -q ready "$tmp/hold.out"
    sleep 1
    busy[$name]=$(reading "$name")
    kill "$holder"; wait "$holder" 2>/dev/null || true
done

printf '%-20s %9s %9s %9s %8s | %9s %8s %12s\n' executable "RSS MiB" "anon" "file" threads "+${connections} conn" threads "KiB per conn"
for name in "${names[@]}"; do
    echo "$name ${idle[$name]} ${busy[$name]}"
done | awk -v n="$connections" '{
    printf "%-20s %9.1f %9.1f %9.1f %8d | %9.1f %8d %12.1f\n", $1, $2/1024, $3/1024, $4/1024, $5, $6/1024, $9, ($6-$2)/n
    total += $2
} END { printf "%-20s %9.1f\n", "all eight", total/1024 }'
echo "(release, idle ${idle_seconds} s after ready; one Redis and PostgreSQL for all; $(nproc) cores)"
