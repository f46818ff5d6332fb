#!/usr/bin/env bash
# Installs what the tests (not spyglass itself) need and a fresh machine lacks.
# Idempotent: skips what is already there.
set -euo pipefail
need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
