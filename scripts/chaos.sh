#!/usr/bin/env bash
# scripts/chaos.sh: the chaos run of tools/social.py against a throwaway Redis and PostgreSQL
# and a release build of Profile, Post and Feed. Loopback only, bounded in time (5 phases of
# PHASE_SECONDS, default 6). Extra arguments go to `social.py chaos`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages

tmp=$(mktemp -d /tmp/suite-chaos.XXXXXX)
trap 'stop_throwaway "$tmp"; rm -rf "$tmp"' EXIT
start_throwaway "$tmp"

swift build -c release --product ProfileService >/dev/null
swift build -c release --product PostService >/dev/null
swift build -c release --product FeedService >/dev/null
python3 tools/social.py chaos --bin "$(swift build -c release --show-bin-path)" \
    --redis-url "$REDIS_URL" --database-url "$DATABASE_URL" \
    --logs "$tmp" --phase-seconds "${PHASE_SECONDS:-6}" "$@"
