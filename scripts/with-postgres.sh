#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster, then removes it.
#
#   scripts/with-postgres.sh ctest --test-dir build --output-on-failure
#
# The cluster lives in a fresh temporary directory, listens on a free loopback
# port (and a unix socket in that directory) and is stopped and deleted when
# this script exits, also when the command fails or the script is interrupted.
# The command's exit code is this script's exit code.
#
# The command sees:
#   MAGICLINK_TEST_POSTGRES_URL  postgresql://postgres@127.0.0.1:PORT/magiclink_test
#   MAGICLINK_TEST_PGDATA        the cluster's data directory
#   MAGICLINK_TEST_PGCTL         pg_ctl run as the cluster's owner, so a test can
#                                stop and start the server to simulate an outage:
#                                "$MAGICLINK_TEST_PGCTL" -D "$MAGICLINK_TEST_PGDATA" stop -m fast
#                                "$MAGICLINK_TEST_PGCTL" -D "$MAGICLINK_TEST_PGDATA" start -w
# Port and socket directory are written to postgresql.conf, so a plain
# `pg_ctl start` brings the server back exactly where it was.
#
# PostgreSQL refuses to run as root: when run as root, the cluster runs as the
# `postgres` user (MAGICLINK_PG_USER). MAGICLINK_PG_BIN overrides where the
# server binaries are (default: PostgreSQL 15 from Debian).
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

pg_bin="${MAGICLINK_PG_BIN:-/usr/lib/postgresql/15/bin}"
pg_user="${MAGICLINK_PG_USER:-postgres}"
db_name="magiclink_test"

if [[ ! -x "${pg_bin}/pg_ctl" ]]; then
  echo "$0: no PostgreSQL binaries in ${pg_bin} (set MAGICLINK_PG_BIN)" >&2
  exit 2
fi

# Runs a command as the cluster owner.
as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u "${pg_user}" -- "$@"
  else
    "$@"
  fi
}

tmp_dir="$(mktemp -d "${TMPDIR:-/tmp}/magiclink-pg.XXXXXX")"
data_dir="${tmp_dir}/data"
log_file="${tmp_dir}/server.log"
started=0

cleanup() {
  local rc=$?
  if [[ ${started} -eq 1 && -f "${data_dir}/postmaster.pid" ]]; then
    # Immediate: the cluster is thrown away, nothing needs a clean checkpoint.
    as_owner "${pg_bin}/pg_ctl" -D "${data_dir}" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "${tmp_dir}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$(id -u)" -eq 0 ]]; then
  chown "${pg_user}:" "${tmp_dir}"
fi
chmod 700 "${tmp_dir}"

as_owner "${pg_bin}/initdb" -D "${data_dir}" -A trust -U postgres --no-sync \
  -E UTF8 --locale=C >"${tmp_dir}/initdb.log" 2>&1 || {
  cat "${tmp_dir}/initdb.log" >&2
  exit 1
}

# A free port: bind port 0 and take what the kernel picked. Another process
# may grab it before the server binds, so starting is retried with a new one.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port=""
for attempt in 1 2 3 4 5; do
  port="$(free_port)"
  cat >"${data_dir}/postgresql.auto.conf" <<EOF
# Written by scripts/with-postgres.sh: a throwaway test cluster.
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${tmp_dir}'
max_connections = 200
EOF
  chown "$(stat -c %U "${data_dir}"):" "${data_dir}/postgresql.auto.conf"
  started=1
  if as_owner "${pg_bin}/pg_ctl" -D "${data_dir}" -l "${log_file}" -w -t 30 start >/dev/null; then
    break
  fi
  started=0
  port=""
done
if [[ -z "${port}" ]]; then
  echo "$0: PostgreSQL did not start; its log:" >&2
  cat "${log_file}" >&2 || true
  exit 1
fi

as_owner "${pg_bin}/createdb" -h "${tmp_dir}" -p "${port}" -U postgres "${db_name}"

# pg_ctl as the cluster owner, for tests that stop and start the server.
pgctl_wrapper="${tmp_dir}/pg_ctl"
if [[ "$(id -u)" -eq 0 ]]; then
  printf '#!/bin/sh\nexec runuser -u %q -- %q "$@"\n' "${pg_user}" "${pg_bin}/pg_ctl" >"${pgctl_wrapper}"
else
  printf '#!/bin/sh\nexec %q "$@"\n' "${pg_bin}/pg_ctl" >"${pgctl_wrapper}"
fi
chmod 755 "${pgctl_wrapper}"

export MAGICLINK_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:${port}/${db_name}"
export MAGICLINK_TEST_PGDATA="${data_dir}"
export MAGICLINK_TEST_PGCTL="${pgctl_wrapper}"

# Not exec: the trap must run after the command to remove the cluster.
set +e
"$@"
rc=$?
set -e
exit "${rc}"
