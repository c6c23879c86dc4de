#!/usr/bin/env bash
# The run command: installs what is missing, builds in release mode, starts Redis and
# PostgreSQL under .data/ (project-local, kept between runs, durable: Redis append-only with
# an fsync every second, PostgreSQL with its defaults), starts all eight services, waits
# until every one is ready and prints their URLs, the admin key and example calls. Then it
# supervises them as compose's restart policy would: a service that dies is logged and started
# again, after 1 s, then 2, 4, ... up to 30 s while it keeps dying within a minute of its
# start; the others keep serving. scripts/service.sh stops and starts one service for a drill.
# Ctrl-C or SIGTERM stops everything.
#
# Ports: the services use their defaults (8080-8087, or the *_PORT variables);
# SUITE_REDIS_PORT (6379) and SUITE_PG_PORT (5432) choose the servers' ports.
# SUITE_DATA_DIR (.data) moves the data; SUITE_BIN_DIR runs the executables found there
# instead of building (the tests run their debug build so).
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
data=${SUITE_DATA_DIR:-$PWD/.data}

port_busy() { (echo >"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1; }

ensure_packages
if [ -n "${SUITE_BIN_DIR:-}" ]; then
    bin=$SUITE_BIN_DIR
else
    log "building (release)"
    swift build -c release
    bin=$(swift build -c release --show-bin-path)
fi

# Everything under .data is the owner's alone. When we are root, PostgreSQL runs as `postgres`
# and must pass through .data to its own directory: .data is then 711 (no listing), and each
# directory inside it is still 700.
umask 077
mkdir -p "$data/logs" "$data/redis" "$data/run"
rm -f "$data/run/"*
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

# Supervised processes by name: the command line, the pid while running, when it last
# started, how many times in a row it died early, and when it may start again.
declare -A command_of pid_of started_at failures next_start
names=()
stop_all() {
    trap - INT TERM EXIT
    log "stopping"
    local name pid
    for name in "${names[@]}"; do [ -z "${pid_of[$name]:-}" ] || kill -TERM "${pid_of[$name]}" 2>/dev/null || true; done
    for name in "${names[@]}"; do
        pid=${pid_of[$name]:-}
        [ -n "$pid" ] || continue
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -f "$data/run/"*
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
redis_start "$data/redis" "$redis_port" --appendonly yes --appendfsync everysec

REDIS_URL=$(redis_url "$redis_port")
DATABASE_URL=$(postgres_url "$pg_port")
export REDIS_URL DATABASE_URL ADMIN_API_KEYS

# Starts NAME (its command from command_of) with its output appended to its log, and notes
# its pid where scripts/service.sh finds it.
start_process() { # name
    local name=$1
    bash -c "exec ${command_of[$name]}" >>"$data/logs/$name.log" 2>&1 &
    pid_of[$name]=$!
    started_at[$name]=$SECONDS
    echo "$!" >"$data/run/$name.pid"
}

supervise() { # name command...
    local name=$1; shift
    names+=("$name")
    command_of[$name]=$(printf '%q ' "$@")
    failures[$name]=0
    next_start[$name]=0
    start_process "$name"
}

# AnalyticsService's simulated external source (EXTERNAL_SOURCE_PORT, default 8090), as the
# older service had it: some latency and a share of failures, behind the service's breaker.
external_port=${EXTERNAL_SOURCE_PORT:-8090}
supervise external_source python3 tools/external_source.py --port "$external_port"
export ANALYTICS_EXTERNAL_URL=${ANALYTICS_EXTERNAL_URL:-http://127.0.0.1:$external_port/data}
# Everything here listens on loopback only, so the gateway's dashboard is left open to this
# machine (the gateway's default is to ask for an admin key; GATEWAY_DASHBOARD_AUTH=key).
export GATEWAY_DASHBOARD_AUTH=${GATEWAY_DASHBOARD_AUTH:-open}
# Where the gateway, Post and Feed reach the others, on the ports chosen above.
port_of() { local entry; entry=$(printf '%s\n' "${SERVICES[@]}" | grep "^$1 "); read -r _ variable default <<<"$entry"; echo "${!variable:-$default}"; }
export FLAG_URL=${FLAG_URL:-http://127.0.0.1:$(port_of FlagService)}
export RESTRICTION_URL=${RESTRICTION_URL:-http://127.0.0.1:$(port_of RestrictionConsumer)}
export ANALYTICS_URL=${ANALYTICS_URL:-http://127.0.0.1:$(port_of AnalyticsService)}
export STREAM_URL=${STREAM_URL:-http://127.0.0.1:$(port_of StreamFilter)}
export PROFILE_URL=${PROFILE_URL:-http://127.0.0.1:$(port_of ProfileService)}
export POST_URL=${POST_URL:-http://127.0.0.1:$(port_of PostService)}
export FEED_URL=${FEED_URL:-http://127.0.0.1:$(port_of FeedService)}

for entry in "${SERVICES[@]}"; do
    read -r name variable default <<<"$entry"
    supervise "$name" env "$variable=${!variable:-$default}" "$bin/$name"
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
else
    printf '  %-20s %s\n' "admin key" "from ADMIN_API_KEYS (X-Api-Key)"
fi
key=${ADMIN_API_KEYS%%,*}
gateway="http://127.0.0.1:${GATEWAY_PORT:-8080}"
cat >&2 <<EXAMPLES
[suite] try, through the gateway:
  curl -s -X POST $gateway/flags/flags -H 'X-Api-Key: $key' -H 'Content-Type: application/json' \\
      -d '{"flag_name":"new-checkout","status":true,"rollout_percentage":50}'
  curl -s $gateway/flags/users/42/flags/new-checkout
  curl -s -X POST $gateway/restrictions/event -H 'X-Api-Key: $key' -H 'Content-Type: application/json' \\
      -d '{"name":"scam_message_flagged","event_properties":{"user_id":"42"}}'
[suite] scripts/service.sh stop|start|restart NAME stops and starts one service (status: scripts/service.sh status)
EXAMPLES

# Supervise until a signal: a service that died is started again after its backoff, unless
# scripts/service.sh stopped it (a .stopped file beside its pid file).
while true; do
    for name in "${names[@]}"; do
        pid=${pid_of[$name]:-}
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            status=0
            wait "$pid" || status=$?
            pid_of[$name]=""
            rm -f "$data/run/$name.pid"
            if [ -f "$data/run/$name.stopped" ]; then
                log "$name stopped (scripts/service.sh start $name starts it again)"
                continue
            fi
            # A run of a minute or more was healthy: the backoff starts over.
            [ $((SECONDS - started_at[$name])) -ge 60 ] && failures[$name]=0
            failures[$name]=$((failures[$name] + 1))
            delay=$((1 << (failures[$name] - 1)))
            [ "$delay" -gt 30 ] && delay=30
            [ -f "$data/run/$name.restart" ] && delay=0
            next_start[$name]=$((SECONDS + delay))
            log "$name exited with status $status; starting it again in ${delay}s (log: $data/logs/$name.log)"
        fi
        if [ -z "${pid_of[$name]:-}" ] && [ ! -f "$data/run/$name.stopped" ] && [ "$SECONDS" -ge "${next_start[$name]}" ]; then
            rm -f "$data/run/$name.restart"
            start_process "$name"
            log "$name started (pid ${pid_of[$name]})"
        fi
    done
    sleep 0.5 &
    wait $! || true
done
