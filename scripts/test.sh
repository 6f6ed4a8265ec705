#!/usr/bin/env bash
# Sets up what is missing, builds with warnings as errors, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh debug tests
swift build --build-tests -Xswiftc -warnings-as-errors
swift test --skip-build
