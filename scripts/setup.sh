#!/usr/bin/env bash
# Installs what pode needs from Debian's packages (only what is missing) and builds it.
# Usage: scripts/setup.sh [debug|release] [tests]
# With "tests", also what the tests need: Debian's chromium, for the info browser's test.
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-release}"
for_tests="${2:-}"

need=()
dpkg -s libxapian-dev >/dev/null 2>&1 || need+=(libxapian-dev)
dpkg -s libpython3-dev >/dev/null 2>&1 || need+=(libpython3-dev)
dpkg -s python3.11 >/dev/null 2>&1 || need+=(python3.11)
dpkg -s pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ "$for_tests" = tests ]; then
    dpkg -s chromium >/dev/null 2>&1 || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "setup: building pode ($config)" >&2
swift build -c "$config" -Xswiftc -warnings-as-errors >&2
