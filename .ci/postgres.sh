#!/usr/bin/env bash
# Make PostgreSQL's server binaries available for the test run and print their folder.
#
#   export SMSBRIDGE_PG_BIN="$(bash .ci/postgres.sh)"
#
# Installs Debian's postgresql package when no initdb is found (needs root, as on CI).
# Only the folder goes to stdout; apt's chatter goes to stderr. The tests start their own
# throwaway cluster on a loopback port (smsbridge/testing/postgres.py); the cluster the
# package may create and start is not used.
set -euo pipefail

find_bin() {
  local dir
  if [[ -n "${SMSBRIDGE_PG_BIN:-}" && -x "${SMSBRIDGE_PG_BIN}/initdb" ]]; then
    echo "${SMSBRIDGE_PG_BIN}"
    return 0
  fi
  if command -v pg_config >/dev/null 2>&1; then
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [[ -n "${dir}" && -x "${dir}/initdb" && -x "${dir}/pg_ctl" ]]; then
      echo "${dir}"
      return 0
    fi
  fi
  if command -v initdb >/dev/null 2>&1; then
    dir="$(dirname "$(readlink -f "$(command -v initdb)")")"
    if [[ -x "${dir}/pg_ctl" ]]; then
      echo "${dir}"
      return 0
    fi
  fi
  # Debian's layout: /usr/lib/postgresql/<major>/bin, newest major first.
  dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null \
    | sort -V | tail -n 1)"
  if [[ -n "${dir}" && -x "${dir}/initdb" ]]; then
    echo "${dir}"
    return 0
  fi
  return 1
}

if ! find_bin; then
  echo "postgres.sh: installing Debian's postgresql package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  find_bin || { echo "postgres.sh: no initdb after installing postgresql" >&2; exit 1; }
fi
