#!/usr/bin/env bash
# Make Debian's redis-server available for the Celery tests and print its path.
#
#   export SMSBRIDGE_REDIS_SERVER="$(bash .ci/redis.sh)"
#
# Installs the redis-server package when no binary is found (needs root, as on CI).
# Only the path goes to stdout; apt's chatter goes to stderr. The tests start their own
# server on a free loopback port (smsbridge/testing/redis.py); a server the package may
# start is not used.
set -euo pipefail

find_bin() {
  if [[ -n "${SMSBRIDGE_REDIS_SERVER:-}" && -x "${SMSBRIDGE_REDIS_SERVER}" ]]; then
    echo "${SMSBRIDGE_REDIS_SERVER}"
    return 0
  fi
  if command -v redis-server >/dev/null 2>&1; then
    command -v redis-server
    return 0
  fi
  return 1
}

if ! find_bin; then
  echo "redis.sh: installing Debian's redis-server package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends redis-server >&2
  find_bin || { echo "redis.sh: no redis-server after installing the package" >&2; exit 1; }
fi
