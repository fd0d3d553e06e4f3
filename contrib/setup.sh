#!/bin/sh
# Install what spgw needs to build, test and run its demo on Debian 12, as root.
# Idempotent: installs only what is missing.
set -eu
pkgs="meson ninja-build gcc pkg-config libjansson-dev libsqlite3-dev libssl-dev
      libcurl4-openssl-dev libmicrohttpd-dev zlib1g-dev check sqlite3 jq postgresql libpq-dev
      libsystemd-dev scdoc chromium fonts-wqy-microhei"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing$missing"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
echo "setup: all build and test dependencies are present"
