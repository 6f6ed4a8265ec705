#!/usr/bin/env bash
# Installs what pode needs from Debian's packages (only what is missing) and builds it.
# Usage: scripts/setup.sh [debug|release] [tests|bench]
# With "tests", also what the tests need: Debian's chromium, for the info browser's test, and a
# python3.11 virtualenv with the PyPI packages the differential test records (Tests/oracle).
# With "bench", also valgrind, for the benchmark's instruction counts (bench/run.sh --instructions).
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-release}"
for_tests="${2:-}"

need=()
dpkg -s libxapian-dev >/dev/null 2>&1 || need+=(libxapian-dev)
dpkg -s libpython3-dev >/dev/null 2>&1 || need+=(libpython3-dev)
dpkg -s liblz4-dev >/dev/null 2>&1 || need+=(liblz4-dev)
dpkg -s python3.11 >/dev/null 2>&1 || need+=(python3.11)
dpkg -s pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ "$for_tests" = bench ]; then
    dpkg -s valgrind >/dev/null 2>&1 || need+=(valgrind)  # bench/run.sh --instructions
fi
if [ "$for_tests" = tests ]; then
    dpkg -s chromium >/dev/null 2>&1 || need+=(chromium)
    dpkg -s python3.11-venv >/dev/null 2>&1 || need+=(python3.11-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ "$for_tests" = tests ]; then
    # Pure-Python packages from PyPI, pinned, whose own code the differential test records.
    venv=.build/oracle-venv
    packages="markdown==3.7 docutils==0.21.2 pyflakes==3.2.0 sqlparse==0.5.1"
    if [ "$(cat "$venv/packages" 2>/dev/null)" != "$packages" ]; then
        echo "setup: making $venv with $packages" >&2
        rm -rf "$venv"
        mkdir -p .build
        /usr/bin/python3.11 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check $packages >&2
        echo "$packages" > "$venv/packages"
    fi
fi

echo "setup: building pode ($config)" >&2
swift build -c "$config" -Xswiftc -warnings-as-errors >&2
