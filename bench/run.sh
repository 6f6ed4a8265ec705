#!/usr/bin/env bash
# Builds pode (release) and runs the benchmark; arguments go to bench/run.py
# (--runs N, --peers, --large, --workloads a,b, --no-latency, --json PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh release
exec /usr/bin/python3.11 bench/run.py --pode "$(swift build -c release --show-bin-path)/pode" "$@"
