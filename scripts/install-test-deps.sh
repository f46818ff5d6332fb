#!/usr/bin/env bash
# Installs what the tests (not spyglass itself) need and a fresh machine lacks.
# Idempotent: skips what is already there.
set -euo pipefail
need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
# the flame graph test opens record's HTML in Debian's headless Chromium
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# libc's separate debug file: the native tests check that libc frames get their source
# lines from it (they skip, saying why, without it)
dpkg -s libc6-dbg >/dev/null 2>&1 || need_apt+=(libc6-dbg)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# torch tests (mem/gilstat/torch issue): the CPU build of torch in a virtualenv of
# pyenv's 3.11.7, at .venv-torch/ in the repository root. The tests skip, saying why,
# when it is absent.
root="$(cd "$(dirname "$0")/.." && pwd)"
torch_py=/root/.pyenv/versions/3.11.7/bin/python3.11
if [ -x "$torch_py" ] && ! "$root/.venv-torch/bin/python" -c 'import torch' >/dev/null 2>&1; then
  "$torch_py" -m venv "$root/.venv-torch"
  "$root/.venv-torch/bin/pip" install -q torch==2.13.0
  # the first import of a fresh install is slow (files read cold, caches built): done here,
  # so that a torch test's target is not timed on it
  "$root/.venv-torch/bin/python" -c 'import torch' >/dev/null 2>&1 || true
fi

# the Python linter and formatter for `npm run lint` / `npm run format`: ruff in its own
# throwaway virtualenv at .venv-lint/ (the agent itself stays stdlib-only)
ruff_version=0.17.5
if ! "$root/.venv-lint/bin/ruff" --version 2>/dev/null | grep -qx "ruff $ruff_version"; then
  lint_py=$(command -v /root/.pyenv/versions/3.11.7/bin/python3.11 python3 | head -n 1)
  "$lint_py" -m venv "$root/.venv-lint"
  "$root/.venv-lint/bin/pip" install -q "ruff==$ruff_version"
fi
