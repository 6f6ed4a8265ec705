#!/usr/bin/env bash
# Builds pode (release) and runs the benchmark; arguments go to bench/run.py
# (--runs N, --peers, --large, --workloads a,b, --no-latency, --json PATH, --instructions [--baseline BIN]).
set -euo pipefail
cd "$(dirname "$0")/.."
case " $* " in
*" --instructions "*) scripts/setup.sh release bench ;;  # also valgrind
*) scripts/setup.sh release ;;
esac
exec /usr/bin/python3.11 bench/run.py --pode "$(swift build -c release --show-bin-path)/pode" "$@"
