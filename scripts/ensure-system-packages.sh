#!/usr/bin/env bash
# Installs the Debian packages Reframer runs locally and in tests, only where missing.
# Arguments name more packages whose command has the package's name (`make bench` adds wrk).
set -euo pipefail

missing=()
have_postgres() { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
have_postgres || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
# The browser test drives Debian's Chromium (no browser download at test time).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
for extra in "$@"; do
    command -v "$extra" >/dev/null 2>&1 || missing+=("$extra")
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "Reframer needs these packages: ${missing[*]} (install them with your package manager)" >&2
    exit 1
fi
echo "installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
