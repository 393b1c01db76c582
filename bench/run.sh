#!/usr/bin/env bash
# `npm run bench`: every benchmark in turn. Each starts its own `wrangler dev` on 127.0.0.1 and
# prints its figures with the ratio to a baseline measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in api import webhooks calls campaign voice kb load; do
  echo "== bench/$bench"
  node "bench/$bench.mjs"
done
