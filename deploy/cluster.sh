#!/usr/bin/env bash
# nginx in front of CLUSTER_PROCESSES PiChat processes on this machine, from the environment
# (PORT, DATABASE_URL, REDIS_URL and every usual setting): deploy/cluster.py does the work.
#   deploy/cluster.sh start|stop|status
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$root/.venv/bin/python" ]; then
  echo "cluster.sh: falta $root/.venv (make cluster lo prepara)" >&2
  exit 1
fi
cd "$root"
exec "$root/.venv/bin/python" -m deploy.cluster "$@"
