# bootstrap-node.sh: source it (". ./bootstrap-node.sh") before `npm ci` / `npm test`.
# If `node` on PATH is older than 24, install node@24 from the npm registry once into $NODE24_DIR
# and put its real binary first on PATH; npm ("#!/usr/bin/env node") then runs on Node 24 too.
NODE24_SPEC="${NODE24_SPEC:-24.21.0}"                      # pin e.g. 24.21.0 for reproducible CI
NODE24_DIR="${NODE24_DIR:-$HOME/.cache/node$NODE24_SPEC}"
_cur=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "${_cur:-0}" -lt 24 ]; then
  _arch=$(uname -m); case "$_arch" in x86_64) _arch=x64;; aarch64) _arch=arm64;; esac
  _home="$NODE24_DIR/node_modules/node/node_modules/node-$(uname -s | tr A-Z a-z)-$_arch"
  # npm derives its *global* npmrc (cafile, registry, proxy) from --prefix / node's install dir:
  # pin the current one so it survives both the --prefix install and the PATH switch.
  _cfg=$(npm config get globalconfig nodedir 2>/dev/null)
  _gc=$(printf '%s\n' "$_cfg" | sed -n 's/^globalconfig=//p')
  [ -z "${npm_config_globalconfig:-}" ] && [ -f "$_gc" ] && export npm_config_globalconfig="$_gc"
  if [ ! -x "$_home/bin/node" ]; then
    echo "bootstrap: node $(node --version 2>/dev/null || echo none) too old; installing node@$NODE24_SPEC into $NODE24_DIR" >&2
    _tmp="$NODE24_DIR.tmp.$$"; rm -rf "$_tmp" "$NODE24_DIR"; mkdir -p "$_tmp"
    echo '{"private":true,"allowScripts":{"node":true}}' > "$_tmp/package.json"  # its preinstall fetches the binary
    if npm install --prefix "$_tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@$NODE24_SPEC" >&2; then
      mv -T "$_tmp" "$NODE24_DIR" 2>/dev/null || rm -rf "$_tmp"    # atomic; a parallel job may have won
    else
      rm -rf "$_tmp"; echo "bootstrap: node@$NODE24_SPEC install failed" >&2; return 1 2>/dev/null || exit 1
    fi
  fi
  export PATH="$_home/bin:$PATH"; hash -r
  # a user/global `nodedir` (here ~/.npmrc has nodedir=/usr = Node 20 headers) would make node-gyp
  # build addons for the wrong ABI; point it at Node 24's bundled headers instead.
  case "$_cfg" in *nodedir=/*) export npm_config_nodedir="$_home";; esac
  unset _arch _home _cfg _gc _tmp
fi
unset _cur
