#!/usr/bin/env bash
# A crmbot fleet on this machine, without Docker: PostgreSQL (the installed server, its own data
# directory and port), a Chroma server, and N `crmbot serve` workers sharing one HTTP port.
#
#   deploy/fleet.sh start     # `make fleet`: start (or keep) everything, print where it is
#   deploy/fleet.sh stop      # `make fleet-stop`: stop what `start` started, nothing else
#   deploy/fleet.sh status
#
# Settings (environment): FLEET_DIR (./data/fleet), FLEET_WORKERS (2), FLEET_HTTP_PORT (3000),
# FLEET_PG_PORT (55432), FLEET_CHROMA_PORT (58000), PG_BIN (/usr/lib/postgresql/15/bin).
# Platform tokens and every other CRMBOT_* setting come from the environment or ./.env, as for
# a single `crmbot serve`. Everything listens on 127.0.0.1 only but the workers' HTTP port
# (CRMBOT_HTTP_HOST, default 0.0.0.0, for Slack and Telegram to reach).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLEET_DIR="$(mkdir -p "${FLEET_DIR:-$ROOT/data/fleet}" && cd "${FLEET_DIR:-$ROOT/data/fleet}" && pwd)"
WORKERS="${FLEET_WORKERS:-2}"
HTTP_PORT="${FLEET_HTTP_PORT:-3000}"
PG_PORT="${FLEET_PG_PORT:-55432}"
CHROMA_PORT="${FLEET_CHROMA_PORT:-58000}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
VENV="${VENV:-$ROOT/.venv}"
CRMBOT="$VENV/bin/crmbot"
CHROMA="$VENV/bin/chroma"

PGDATA="$FLEET_DIR/postgres"
RUN="$FLEET_DIR/run"
LOGS="$FLEET_DIR/logs"
# The crmbot role's password (scram-sha-256): generated at the first start, 0600 in the fleet
# directory, never printed; the workers' database URL is built from it.
PG_PASSWORD_FILE="$FLEET_DIR/postgres.password"
DB_URL_SHOWN="postgresql+psycopg://crmbot:\$(cat $PG_PASSWORD_FILE)@127.0.0.1:$PG_PORT/crmbot"
CHROMA_URL="http://127.0.0.1:$CHROMA_PORT"

# PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user.
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# A pidfile's process is alive only if it still runs the program started (after a reboot the
# pid may belong to anything); a pidfile that fails the test is stale and removed.
runs() {  # pid program: /proc/pid/cmdline holds "program" (its words joined by spaces)
    [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# A new random password (letters and digits: no escaping in a URL), in a file only we can read.
make_password() {
    (umask 077 && head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 \
        >"$PG_PASSWORD_FILE")
    # initdb runs as postgres when we are root: it reads the file too (root still can).
    if [ "$(id -u)" = 0 ]; then chown postgres: "$PG_PASSWORD_FILE"; fi
}

db_url() { echo "postgresql+psycopg://crmbot:$(cat "$PG_PASSWORD_FILE")@127.0.0.1:$PG_PORT/crmbot"; }

# psql and createdb as the crmbot role, with its password from the file.
as_crmbot_pg() { PGPASSWORD="$(cat "$PG_PASSWORD_FILE")" as_pg "$@"; }

alive() {  # pidfile program
    local pid
    [ -f "$1" ] || return 1
    pid="$(cat "$1")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && runs "$pid" "$2"; then
        return 0
    fi
    rm -f "$1"
    return 1
}

wait_http() {  # url seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

start_postgres() {
    mkdir -p "$RUN" "$LOGS"
    if [ ! -f "$PGDATA/PG_VERSION" ]; then
        mkdir -p "$PGDATA"
        if [ "$(id -u)" = 0 ]; then
            chown postgres: "$PGDATA" "$RUN" "$LOGS"
            # The postgres user must be able to reach its directory.
            chmod o+x "$FLEET_DIR"
            # ... and every directory above it (a fleet under /root, 0700, is out of its reach).
            if ! runuser -u postgres -- test -w "$PGDATA" -a -w "$RUN" -a -w "$LOGS"; then
                echo "the postgres user cannot reach $PGDATA: a directory above it is closed" \
                    "to others. Set FLEET_DIR to a place it can reach (FLEET_DIR=/var/lib/crmbot-fleet" \
                    "make fleet), or let it through: chmod o+x on each directory above." >&2
                exit 1
            fi
        fi
        # The crmbot role with a password, even on 127.0.0.1: any local user could connect.
        make_password
        as_pg "$PG_BIN/initdb" -D "$PGDATA" -U crmbot --auth=scram-sha-256 \
            --pwfile="$PG_PASSWORD_FILE" -E UTF8 --locale=C.UTF-8 >"$LOGS/initdb.log"
    fi
    local upgrade_trust=""
    if [ ! -s "$PG_PASSWORD_FILE" ]; then
        # A fleet made before passwords (trust): set one and switch to scram-sha-256 below.
        make_password
        upgrade_trust=yes
    fi
    if as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        echo "postgres: already running"
    else
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$LOGS/postgres.log" -w -t 60 \
            -o "-p $PG_PORT -k $RUN -c listen_addresses=127.0.0.1 -c max_connections=200" \
            start >/dev/null
    fi
    if [ -n "$upgrade_trust" ]; then
        as_pg "$PG_BIN/psql" -h "$RUN" -p "$PG_PORT" -U crmbot -d postgres -qtA \
            -v ON_ERROR_STOP=1 -v pw="$(cat "$PG_PASSWORD_FILE")" >/dev/null <<'SQL'
SET password_encryption = 'scram-sha-256';
ALTER ROLE crmbot PASSWORD :'pw';
SQL
        as_pg sed -i -E 's/[[:space:]]trust[[:space:]]*$/ scram-sha-256/' "$PGDATA/pg_hba.conf"
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" reload >/dev/null
    fi
    as_crmbot_pg "$PG_BIN/psql" -h "$RUN" -p "$PG_PORT" -U crmbot -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'crmbot'" | grep -q 1 \
        || as_crmbot_pg "$PG_BIN/createdb" -h "$RUN" -p "$PG_PORT" -U crmbot crmbot
}

start_chroma() {
    if alive "$RUN/chroma.pid" "chroma run"; then
        echo "chroma: already running"
        return
    fi
    mkdir -p "$FLEET_DIR/chroma"
    nohup "$CHROMA" run --path "$FLEET_DIR/chroma" --host 127.0.0.1 --port "$CHROMA_PORT" \
        >"$LOGS/chroma.log" 2>&1 &
    echo $! >"$RUN/chroma.pid"
    wait_http "$CHROMA_URL/api/v2/heartbeat" 60 || wait_http "$CHROMA_URL/api/v1/heartbeat" 5 \
        || { echo "chroma did not start: see $LOGS/chroma.log" >&2; exit 1; }
}

start_workers() {
    # Workers read ./.env like a single `crmbot serve`: the project's, whatever the caller's cwd.
    cd "$ROOT"
    CRMBOT_DATABASE_URL="$(db_url)"
    export CRMBOT_DATABASE_URL CRMBOT_CHROMA_URL="$CHROMA_URL"
    export CRMBOT_HTTP_PORT="$HTTP_PORT" CRMBOT_HTTP_REUSE_PORT=true
    "$CRMBOT" db upgrade >"$LOGS/upgrade.log"
    # prometheus-client's multiprocess mode: every worker's /metrics adds up all workers.
    export PROMETHEUS_MULTIPROC_DIR="$FLEET_DIR/metrics"
    local f i running=0
    for f in "$RUN"/worker*.pid; do
        [ -e "$f" ] && alive "$f" "crmbot serve" && running=$((running + 1))
    done
    # Last run's files only when no worker still writes its own there.
    if [ "$running" = 0 ]; then
        rm -rf "$PROMETHEUS_MULTIPROC_DIR"
    fi
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    for ((i = 1; i <= WORKERS; i++)); do
        if alive "$RUN/worker$i.pid" "crmbot serve"; then
            echo "worker $i: already running"
            continue
        fi
        mkdir -p "$FLEET_DIR/worker$i"
        CRMBOT_DATA_DIR="$FLEET_DIR/worker$i" nohup "$CRMBOT" serve --reuse-port \
            >"$LOGS/worker$i.log" 2>&1 &
        echo $! >"$RUN/worker$i.pid"
    done
    # FLEET_WORKERS=0: PostgreSQL and Chroma only (for workers started otherwise, e.g. a bench).
    if [ "$WORKERS" -gt 0 ]; then
        wait_http "http://127.0.0.1:$HTTP_PORT/healthz" 120 \
            || { echo "no worker answers: see $LOGS/worker*.log" >&2; exit 1; }
    fi
}

start() {
    start_postgres
    start_chroma
    start_workers
    status
}

status() {
    echo "fleet in $FLEET_DIR (logs in $LOGS)"
    if as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        echo "  postgres  127.0.0.1:$PG_PORT, role crmbot, password in $PG_PASSWORD_FILE"
    else
        echo "  postgres  stopped"
    fi
    if alive "$RUN/chroma.pid" "chroma run"; then
        echo "  chroma    $CHROMA_URL (pid $(cat "$RUN/chroma.pid"))"
    else
        echo "  chroma    stopped"
    fi
    local f n=0
    for f in "$RUN"/worker*.pid; do
        [ -e "$f" ] || continue
        if alive "$f" "crmbot serve"; then
            n=$((n + 1))
            echo "  $(basename "$f" .pid)   pid $(cat "$f")"
        fi
    done
    echo "  http      http://127.0.0.1:$HTTP_PORT (/healthz, /metrics, /api/v1, /slack/events)" \
        "served by $n worker(s)"
    echo "  run a command against it: CRMBOT_DATABASE_URL=\"$DB_URL_SHOWN\" $CRMBOT run --as HANDLE ..."
}

stop_pid() {  # pidfile program: never a process that no longer runs the program started
    local f="$1" pid i
    alive "$f" "$2" || return 0
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for ((i = 0; i < 300; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$f"
}

stop() {
    local f
    for f in "$RUN"/worker*.pid; do
        [ -e "$f" ] && stop_pid "$f" "crmbot serve"
    done
    stop_pid "$RUN/chroma.pid" "chroma run"
    if [ -f "$PGDATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
    then
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
    fi
    echo "fleet stopped (data kept in $FLEET_DIR)"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
