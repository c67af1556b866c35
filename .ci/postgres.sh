# Sourced by .ci/run: a private PostgreSQL cluster (Debian's `postgresql`, installed when missing)
# on a free loopback port, for `make test-postgres`. Its default collation is ICU en-US, as a
# production cluster's usually is, so anything that relies on byte-order sorting without
# asking for it shows up. Needs root (the server runs as the `postgres` user).

start_postgres() {
  if [ -n "${SAGELOCAL_TEST_POSTGRES:-}" ]; then
    echo "PostgreSQL: using \$SAGELOCAL_TEST_POSTGRES"
    return
  fi
  if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq postgresql >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null; }
  fi
  local bin password port icu=()
  bin=$(compgen -G "/usr/lib/postgresql/*/bin" | sort -V | tail -n 1)
  PG_ROOT=$(mktemp -d /tmp/sagelocal-ci-postgres.XXXXXX)
  PG_CTL=("$bin/pg_ctl" -D "$PG_ROOT/data")
  chown postgres: "$PG_ROOT"
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  runuser -u postgres -- sh -c "umask 077 && echo '$password' > '$PG_ROOT/password'"
  "$bin/initdb" --help | grep -- --locale-provider >/dev/null && icu=(--locale-provider=icu --icu-locale=en-US)
  runuser -u postgres -- "$bin/initdb" -D "$PG_ROOT/data" -U postgres --pwfile="$PG_ROOT/password" \
    --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 "${icu[@]}" >/dev/null
  rm "$PG_ROOT/password"
  runuser -u postgres -- "${PG_CTL[@]}" -l "$PG_ROOT/server.log" -w -o \
    "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$PG_ROOT" start >/dev/null
  export SAGELOCAL_TEST_POSTGRES="postgresql://postgres:$password@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($PG_ROOT)"
}

stop_postgres() {
  [ -n "${PG_ROOT:-}" ] || return 0
  runuser -u postgres -- "${PG_CTL[@]}" -m fast stop >/dev/null || true
  rm -rf "$PG_ROOT"
  PG_ROOT=
}
