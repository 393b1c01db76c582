#!/usr/bin/env bash
# Generates the next migration from src/db/schema.ts. Serialized with flock so two people (or
# helpers) editing the schema at once cannot both write the same migration number.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: scripts/db-generate.sh <migration_name>}"
exec 9>.wrangler-db-generate.lock
flock 9
npx drizzle-kit generate --name "$name"
