#!/usr/bin/env bash
# Sets up what is missing, builds with warnings as errors, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh debug tests
swift build --build-tests -Xswiftc -warnings-as-errors
# Line-buffered, so that a log cut short ends at the test that was running; and bounded (see
# scripts/bounded.sh): past PODE_TEST_LIMIT seconds what still runs is shown, then stopped.
scripts/bounded.sh "${PODE_TEST_LIMIT:-1800}" stdbuf -oL -eL swift test --skip-build
