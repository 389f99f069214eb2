#!/usr/bin/env bash
# Runs a command with the real services the tests talk to, and stops them after:
#   - a throwaway PostgreSQL on a free loopback port (MOBILE_CONSOLE_TEST_PG)
#   - a D-Bus session with an unlocked gnome-keyring Secret Service
# Each is skipped when it cannot be had on this machine (outside CI the tests
# that need it skip; under CI=true they fail).
set -uo pipefail
work=$(mktemp -d)
chmod 755 "$work"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
pg_started=""

cleanup() {
    if [ -n "$pg_started" ]; then
        runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -w -m fast stop >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT

if [ -n "$pg_bin" ] && [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$work/pg" && chown postgres: "$work/pg"
    if runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 \
            --locale=C.UTF-8 >"$work/pg/initdb.log" 2>&1 \
        && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
            -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
            start >/dev/null \
        && runuser -u postgres -- "$pg_bin/createdb" -h 127.0.0.1 -p "$port" console_test; then
        pg_started=1
        export MOBILE_CONSOLE_TEST_PG="postgresql+psycopg://postgres@127.0.0.1:$port/console_test"
        echo "PostgreSQL on 127.0.0.1:$port"
    else
        echo "note: could not start PostgreSQL; see $work/pg" >&2
    fi
fi

if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
    # gnome-keyring writes its keyring under HOME: keep it inside the throwaway folder.
    mkdir -p "$work/home"
    export MOBILE_CONSOLE_TEST_KEYRING=1
    HOME="$work/home" XDG_DATA_HOME="$work/home/.local/share" \
        dbus-run-session -- sh -c \
        'printf throwaway | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$@"' \
        sh "$@"
    exit $?
fi
"$@"
