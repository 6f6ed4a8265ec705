#!/usr/bin/env bash
# Sets everything up, records the example program and searches the recording.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh release
pode="$(swift build -c release --show-bin-path)/pode"
cd examples
rm -rf .pode/demo
echo '$ pode record -o .pode/demo wordfreq.py corpus.txt'
"$pode" record -o .pode/demo wordfreq.py corpus.txt
echo
echo '$ pode search needle-7f3a'
"$pode" search --trace .pode/demo needle-7f3a
echo
echo "\$ pode search --first 'value:\"needle-7f3a\"'"
"$pode" search --trace .pode/demo --first 'value:"needle-7f3a"'
echo
echo "\$ pode search 'func:tokenize var:word' --facets --limit 3"
"$pode" search --trace .pode/demo 'func:tokenize var:word' --facets --limit 3
