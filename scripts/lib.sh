#!/usr/bin/env bash
# Helpers shared by run.sh, test.sh and the test suite (through infra.sh).
# Redis and PostgreSQL run as plain local processes under a directory we own; no Docker,
# no system services. When we are root, PostgreSQL (which refuses root) runs as `postgres`.

APT_PACKAGES=(redis-server redis-tools postgresql libhiredis-dev libpq-dev pkg-config python3 curl iproute2)

log() { printf '[suite] %s\n' "$*" >&2; }

ensure_packages() {
    local missing=()
    for pkg in "${APT_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A virtualenv under .build/python with tools/requirements.txt (the OpenFeature SDK and
# OFREP provider, schemathesis), made once and reused while the requirements are unchanged.
# Prints the venv's python.
ensure_python_tools() {
    local venv="$PWD/.build/python" stamp
    stamp="$venv/.requirements"
    if [ -x "$venv/bin/python" ] && cmp -s tools/requirements.txt "$stamp"; then
        echo "$venv/bin/python"
        return 0
    fi
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        ensure_packages python3 python3-venv >&2
        rm -rf "$venv"
        python3 -m venv "$venv" >&2
    fi
    log "installing Python test tools" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check -r tools/requirements.txt >&2
    cp tools/requirements.txt "$stamp"
    echo "$venv/bin/python"
}

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] || { log "PostgreSQL binaries not found"; return 1; }
    echo "$dir"
}

# Runs a PostgreSQL command as a non-root user.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# The span TestSupport.freePort() takes test servers' ports from. Reserving it keeps the kernel
# from choosing one as the source port of an outgoing connection, whatever the machine's
# ephemeral range is; explicit binds still work. Needs root; best effort otherwise.
test_port_span=20000-32767
reserved_ports_file=/proc/sys/net/ipv4/ip_local_reserved_ports

reserve_test_ports() { # prints the previous reservation, for release_test_ports
    cat "$reserved_ports_file" 2>/dev/null || true
    if ! { echo "$test_port_span" > "$reserved_ports_file"; } 2>/dev/null; then
        log "could not reserve ports $test_port_span (ephemeral range: $(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null))"
    fi
}

release_test_ports() { # previous reservation
    { echo "${1:-}" > "$reserved_ports_file"; } 2>/dev/null || true
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A port for a Redis Cluster node from the span TestSupport's cluster nodes use (20000-22767),
# its bus port (+10000) free as well.
free_cluster_port() {
    python3 - <<'PY'
import random, socket
def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port)); return True
    except OSError:
        return False
    finally:
        s.close()
for port in random.sample(range(20000, 22768), 2768):
    if free(port) and free(port + 10000):
        print(port); break
PY
}

wait_for() { # seconds, command...
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.1
    done
}

# Credentials. SUITE_REDIS_PASSWORD turns on the ACL user `suite` (the default user gets a
# random password nobody is told) and SUITE_PG_PASSWORD scram-sha-256 for every PostgreSQL
# login; unset, the servers take anyone on loopback (the benchmarks' throwaway servers). The
# passwords reach the servers through files of mode 600, never a command line another user
# could read in ps.
redis_user=suite

# A random secret kept in FILE (made on first use, mode 600); prints it.
secret_file() { # file
    if [ ! -s "$1" ]; then
        (umask 077; mkdir -p "$(dirname "$1")"; od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$1")
    fi
    cat "$1"
}

redis_cli() { # redis-cli arguments; authenticates as the suite user when there is one
    if [ -n "${SUITE_REDIS_PASSWORD:-}" ]; then
        REDISCLI_AUTH="$SUITE_REDIS_PASSWORD" redis-cli --user "$redis_user" "$@"
    else
        redis-cli "$@"
    fi
}

redis_url() { # port
    echo "redis://${SUITE_REDIS_PASSWORD:+$redis_user:$SUITE_REDIS_PASSWORD@}127.0.0.1:$1"
}

postgres_url() { # port [database]
    echo "postgresql://suite${SUITE_PG_PASSWORD:+:$SUITE_PG_PASSWORD}@127.0.0.1:$1/${2:-suite}"
}

redis_start() { # dir port [redis-server options, e.g. --appendonly yes]
    mkdir -p "$1"
    local acl=()
    if [ -n "${SUITE_REDIS_PASSWORD:-}" ]; then
        # The default user keeps its rights but gets a random password nobody is told:
        # Redis 7.0 replays an append-only file's MULTI/EXEC as that user, and with the user
        # switched off every replayed script fails with NOPERM (the data is lost).
        # Only hashes go into the file (`#`), and the default user's password is not kept.
        local locked suite
        locked=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n' | sha256sum | cut -d' ' -f1)
        suite=$(printf '%s' "$SUITE_REDIS_PASSWORD" | sha256sum | cut -d' ' -f1)
        (umask 077; printf 'user default on #%s ~* &* +@all\nuser %s on #%s ~* &* +@all\n' \
            "$locked" "$redis_user" "$suite" >"$1/users.acl")
        acl=(--aclfile "$1/users.acl")
    fi
    redis-server --port "$2" --bind 127.0.0.1 --dir "$1" --save '' --appendonly no \
        --daemonize yes --pidfile "$1/redis-$2.pid" --logfile "$1/redis-$2.log" "${acl[@]}" "${@:3}"
    wait_for 10 redis_cli -p "$2" ping || {
        log "redis did not start"; cat "$1/redis-$2.log" >&2
        log "sockets on port $2:"; ss -tanpH "( sport = :$2 or dport = :$2 )" >&2 || true
        return 1
    }
}

redis_stop() { # dir port
    redis_cli -p "$2" shutdown nosave >/dev/null 2>&1 || true
    local pidfile="$1/redis-$2.pid"
    if [ -f "$pidfile" ]; then
        local pid; pid=$(cat "$pidfile")
        wait_for 5 bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
        rm -f "$pidfile"
    fi
}

# A Redis Cluster of three masters with a replica each on PORTS (six), every node under
# DIR/PORT, the same credentials as redis_start (replicas authenticate to their masters as the
# suite user). redis_cluster_stop DIR PORTS stops them.
redis_cluster_start() { # dir port×6
    local dir=$1; shift
    [ $# -eq 6 ] || { log "redis_cluster_start needs six ports"; return 1; }
    local port auth=()
    [ -n "${SUITE_REDIS_PASSWORD:-}" ] && auth=(--masteruser "$redis_user" --masterauth "$SUITE_REDIS_PASSWORD")
    for port in "$@"; do
        redis_start "$dir/$port" "$port" --cluster-enabled yes --cluster-config-file "nodes-$port.conf" \
            --cluster-node-timeout 2000 "${auth[@]}"
    done
    local nodes=()
    for port in "$@"; do nodes+=("127.0.0.1:$port"); done
    redis_cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 || {
        log "redis cluster create failed"; cat "$dir/create.log" >&2; return 1
    }
    # Formed once every node sees every slot served.
    for port in "$@"; do
        wait_for 20 bash -c "$(declare -f redis_cli); redis_user=$redis_user; redis_cli -p $port cluster info | grep -q cluster_state:ok" || {
            log "redis cluster did not form (node $port)"; redis_cli -p "$port" cluster info >&2; return 1
        }
    done
    # And every master's replica has its copy, so a write WAIT acknowledges is on two nodes.
    for port in "$@"; do
        redis_cli -p "$port" info replication | grep -q role:master || continue
        wait_for 20 bash -c "$(declare -f redis_cli); redis_user=$redis_user; redis_cli -p $port info replication | grep -q 'state=online'" || {
            log "redis cluster replica of $port not in sync"; redis_cli -p "$port" info replication >&2; return 1
        }
    done
}

redis_cluster_stop() { # dir port×6
    local dir=$1 port; shift
    for port in "$@"; do redis_stop "$dir/$port" "$port"; done
}

# Initialises a PostgreSQL data directory. With "throwaway" (the tests' servers) it trades
# durability for speed (no fsync) and allows more connections, for the many service
# processes the tests run at once; run.sh's server stays durable.
pg_init() { # dir [throwaway]
    local bin; bin=$(pg_bin) || return 1
    mkdir -p "$1"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$1" && chmod 700 "$1"
    local auth=(-A trust) pwfile=""
    if [ -n "${SUITE_PG_PASSWORD:-}" ]; then
        pwfile=$(mktemp) # mode 600, in /tmp, which the postgres user reaches
        printf '%s\n' "$SUITE_PG_PASSWORD" >"$pwfile"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$pwfile"
        auth=(-A scram-sha-256 --pwfile="$pwfile")
    fi
    as_pg "$bin/initdb" -D "$1" -U suite "${auth[@]}" -E UTF8 --locale=C.UTF-8 >/dev/null
    [ -n "$pwfile" ] && rm -f "$pwfile"
    cat >> "$1/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
shared_buffers = 128MB
CONF
    if [ "${2:-}" = throwaway ]; then
        cat >> "$1/postgresql.conf" <<CONF
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 400
CONF
    else
        echo "max_connections = 200" >> "$1/postgresql.conf"
    fi
    echo "CREATE DATABASE suite" | as_pg "$bin/postgres" --single -D "$1" postgres >/dev/null 2>&1
}

pg_start() { # dir port
    local bin; bin=$(pg_bin) || return 1
    as_pg "$bin/pg_ctl" -D "$1" -o "-p $2" -l "$1/server.log" -w -t 30 start >/dev/null || {
        log "postgres did not start"; tail -n 20 "$1/server.log" >&2
        return 1
    }
}

pg_stop() { # dir [mode]
    local bin; bin=$(pg_bin) || return 1
    as_pg "$bin/pg_ctl" -D "$1" -m "${2:-fast}" -w -t 30 stop >/dev/null 2>&1 || true
}

# A directory the postgres user can reach. PREFERRED when every directory above it lets
# that user through; otherwise one of its own under its home (which only it can write, so
# nobody can plant the directory first, as they could under /var/tmp).
pg_reachable_dir() { # preferred
    if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$(dirname "$1")" 2>/dev/null; then
        echo "$1"
        return 0
    fi
    local home; home=$(getent passwd postgres | cut -d: -f6)
    [ -n "$home" ] && [ "$(stat -c %U "$home" 2>/dev/null)" = postgres ] || { log "postgres has no home of its own"; return 1; }
    echo "$home/suite-$(echo "$1" | sha1sum | cut -c1-12)"
}

# Starts a throwaway Redis and PostgreSQL on free ports under DIR (which the caller removes);
# sets redis_port and pg_port and exports REDIS_URL and DATABASE_URL for them.
# stop_throwaway DIR stops both.
start_throwaway() { # dir
    chmod 755 "$1"
    redis_port=$(free_port)
    pg_port=$(free_port)
    redis_start "$1/redis" "$redis_port"
    pg_init "$1/pg" throwaway
    pg_start "$1/pg" "$pg_port"
    REDIS_URL=$(redis_url "$redis_port") DATABASE_URL=$(postgres_url "$pg_port")
    export REDIS_URL DATABASE_URL
}

stop_throwaway() { # dir
    redis_stop "$1/redis" "$redis_port"
    pg_stop "$1/pg" immediate
}
