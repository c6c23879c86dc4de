#!/usr/bin/env bash
# Helpers for the HTTP benchmarks: run wrk and read its figures (loopback targets only), and
# set up and tear down what a bench runs against.

# wrk_run URL CONNECTIONS SECONDS [LUA_SCRIPT] -> prints "rps p50_ms p99_ms non2xx"
wrk_run() {
    case "$1" in http://127.*|http://localhost*|http://\[::1\]*) ;; *) echo "refusing non-loopback $1" >&2; return 1 ;; esac
    wrk -t$(($2 < 2 ? $2 : 2)) -c"$2" -d"$3"s --latency ${4:+-s "$4"} "$1" 2>/dev/null | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(value):
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = re.search(r"Socket errors:.*", text)
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {int(bad.group(1)) if bad else 0}{(chr(32) + errors.group(0).replace(chr(32), chr(95))) if errors else chr(32) + chr(48)}")
'
}

# ratio A B -> A / B with two decimals (a case against its baseline)
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

# wrk_median LINE... -> the wrk_run line with the median req/s (for cases measured in rounds,
# alternating with their baseline, so a noisy neighbour does not land on one case only)
wrk_median() {
    printf '%s\n' "$@" | sort -n -k1,1 | sed -n "$((($# + 1) / 2))p"
}

# pgbench_run PORT CLIENTS SECONDS SCRIPT [pgbench options] -> prints "tps p50_ms p99_ms failed":
# pgbench's tps and failed transactions, and the p50/p99 of its per-transaction latencies
# (SCRIPT and the logs in $tmp; loopback only)
pgbench_run() {
    local port=$1 clients=$2 seconds=$3 script=$4
    shift 4
    rm -f "$tmp"/pgb_log*
    (cd "$tmp" && PGPASSWORD=${SUITE_PG_PASSWORD:-} "$(pg_bin)/pgbench" -n -h 127.0.0.1 -p "$port" -U suite -c "$clients" \
        -j $((clients < 2 ? clients : 2)) -T "$seconds" -f "$script" "$@" --log --log-prefix=pgb_log suite >"$tmp/pgbench.out" 2>&1) \
        || { cat "$tmp/pgbench.out" >&2; return 1; }
    cat "$tmp"/pgb_log* | python3 -c '
import re, sys
out = open(sys.argv[1]).read()
tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
failed = re.search(r"number of failed transactions: (\d+)", out)
lat = sorted(int(line.split()[2]) / 1000 for line in sys.stdin if line.strip())
print(f"{tps:.0f} {lat[len(lat)//2]:.2f} {lat[min(len(lat)-1, len(lat)*99//100)]:.2f} {failed.group(1) if failed else 0}")' "$tmp/pgbench.out"
}

# bench_start PRODUCT...: a throwaway Redis and PostgreSQL in $tmp (REDIS_URL, DATABASE_URL
# exported), the release builds of the products (their directory in $bin), and a trap that
# on exit stops every pid the bench adds to $pids (SIGCONT first: a bench may have frozen
# one; one already gone must not end the trap under `set -e`) and then the servers.
bench_start() {
    ensure_packages wrk
    tmp=$(mktemp -d /tmp/suite-bench.XXXXXX)
    pids=()
    trap bench_stop EXIT
    start_throwaway "$tmp"
    local product
    # The bench executables are in the package only when asked for (Package.swift).
    export SUITE_BENCHMARKS=1
    for product in "$@"; do swift build -c release --product "$product" >/dev/null; done
    bin=$(swift build -c release --show-bin-path)
}

bench_stop() {
    for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    stop_throwaway "$tmp"; rm -rf "$tmp"
}
