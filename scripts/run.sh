#!/usr/bin/env bash
# The run command: installs what is missing, builds in release mode, starts Redis and
# PostgreSQL under .data/ (project-local, kept between runs), starts all eight services,
# waits until every one is ready and prints their URLs. Ctrl-C or SIGTERM stops everything.
#
# Ports: the services use their defaults (8080-8087, or the *_PORT variables);
# SUITE_REDIS_PORT (6379) and SUITE_PG_PORT (5432) choose the servers' ports.
#
# Secrets: .data/secrets/ holds a random admin key, Redis password and PostgreSQL password,
# made at the first run and kept with the data (mode 600). Redis admits only its ACL user
# `suite` with that password, PostgreSQL only scram-sha-256 logins. ADMIN_API_KEYS, if set,
# replaces the generated admin key.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SERVICES=(
    "Gateway GATEWAY_PORT 8080"
    "FlagService FLAG_PORT 8081"
    "RestrictionConsumer RESTRICTION_PORT 8082"
    "AnalyticsService ANALYTICS_PORT 8083"
    "StreamFilter STREAM_PORT 8084"
    "ProfileService PROFILE_PORT 8085"
    "PostService POST_PORT 8086"
    "FeedService FEED_PORT 8087"
)
redis_port=${SUITE_REDIS_PORT:-6379}
pg_port=${SUITE_PG_PORT:-5432}
data="$PWD/.data"

port_busy() { (echo >"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1; }

ensure_packages
log "building (release)"
swift build -c release
bin=$(swift build -c release --show-bin-path)

# Everything under .data is the owner's alone. When we are root, PostgreSQL runs as `postgres`
# and must pass through .data to its own directory: .data is then 711 (no listing), and each
# directory inside it is still 700.
umask 077
mkdir -p "$data/logs" "$data/redis"
chmod 700 "$data"
[ "$(id -u)" -eq 0 ] && chmod 711 "$data"
pg_data=$(pg_reachable_dir "$data/postgres")
SUITE_REDIS_PASSWORD=$(secret_file "$data/secrets/redis-password")
SUITE_PG_PASSWORD=$(secret_file "$data/secrets/postgres-password")
admin_key_file=""
if [ -z "${ADMIN_API_KEYS:-}" ]; then
    admin_key_file="$data/secrets/admin-key"
    ADMIN_API_KEYS=$(secret_file "$admin_key_file")
fi
export SUITE_REDIS_PASSWORD SUITE_PG_PASSWORD

for port in "$redis_port" "$pg_port"; do
    if port_busy "$port"; then
        log "port $port is taken; set SUITE_REDIS_PORT / SUITE_PG_PORT to free ports"
        exit 1
    fi
done

pids=()
stop_all() {
    trap - INT TERM EXIT
    log "stopping"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    redis_stop "$data/redis" "$redis_port"
    pg_stop "$pg_data"
    log "stopped"
}
trap stop_all EXIT
trap "stop_all; exit 130" INT
trap "stop_all; exit 143" TERM

[ -f "$pg_data/PG_VERSION" ] || { log "initialising PostgreSQL in $pg_data"; pg_init "$pg_data"; }
if as_pg grep -Eq '^[^#]*[[:space:]]trust([[:space:]]|$)' "$pg_data/pg_hba.conf"; then
    log "warning: $pg_data was made with trust auth by an older run command; remove it to start over with passwords"
fi
pg_start "$pg_data" "$pg_port"
redis_start "$data/redis" "$redis_port"

REDIS_URL=$(redis_url "$redis_port")
DATABASE_URL=$(postgres_url "$pg_port")
export REDIS_URL DATABASE_URL ADMIN_API_KEYS

# AnalyticsService's simulated external source (EXTERNAL_SOURCE_PORT, default 8090), as the
# older service had it: some latency and a share of failures, behind the service's breaker.
external_port=${EXTERNAL_SOURCE_PORT:-8090}
python3 tools/external_source.py --port "$external_port" >"$data/logs/external_source.log" 2>&1 &
pids+=($!)
export ANALYTICS_EXTERNAL_URL=${ANALYTICS_EXTERNAL_URL:-http://127.0.0.1:$external_port/data}
# Everything here listens on loopback only, so the gateway's dashboard is left open to this
# machine (the gateway's default is to ask for an admin key; GATEWAY_DASHBOARD_AUTH=key).
export GATEWAY_DASHBOARD_AUTH=${GATEWAY_DASHBOARD_AUTH:-open}

for entry in "${SERVICES[@]}"; do
    read -r name variable default <<<"$entry"
    port=${!variable:-$default}
    env "$variable=$port" "$bin/$name" >"$data/logs/$name.log" 2>&1 &
    pids+=($!)
done

for entry in "${SERVICES[@]}"; do
    read -r name variable default <<<"$entry"
    port=${!variable:-$default}
    if ! wait_for 60 curl -sf "http://127.0.0.1:$port/health/ready"; then
        log "$name did not become ready; see $data/logs/$name.log"
        tail -n 20 "$data/logs/$name.log" >&2
        exit 1
    fi
done

log "all services ready (logs in $data/logs, Ctrl-C stops everything):"
for entry in "${SERVICES[@]}"; do
    read -r name variable default <<<"$entry"
    printf '  %-20s http://127.0.0.1:%s\n' "$name" "${!variable:-$default}"
done
printf '  %-20s %s\n' \
    dashboard "http://127.0.0.1:${GATEWAY_PORT:-8080}/dashboard (GATEWAY_DASHBOARD_AUTH=$GATEWAY_DASHBOARD_AUTH)" \
    "external source" "$ANALYTICS_EXTERNAL_URL (AnalyticsService's simulated source)" \
    redis "redis://suite@127.0.0.1:$redis_port (password: $data/secrets/redis-password)" \
    postgres "postgresql://suite@127.0.0.1:$pg_port/suite (password: $data/secrets/postgres-password)"
if [ -n "$admin_key_file" ]; then
    printf '  %-20s %s\n' "admin key" "$ADMIN_API_KEYS (X-Api-Key; kept in $admin_key_file)"
fi

# Stay in the foreground until a signal, or until a service dies.
while true; do
    for pid in "${pids[@]}"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "a service exited (pid $pid); stopping the suite"
            exit 1
        fi
    done
    sleep 1 &
    wait $! || true
done
