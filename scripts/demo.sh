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
echo
echo '$ pode show 209 --context 1'
"$pode" show --trace .pode/demo 209 --context 1
echo
echo '$ pode history words --limit 3'
"$pode" history --trace .pode/demo words --limit 3
echo
echo '$ pode calls --tree --depth 3'
"$pode" calls --trace .pode/demo --tree --depth 3
echo
echo "\$ pode grep --var word -A 1 'needle-[0-9a-f]+'"
"$pode" grep --trace .pode/demo --var word -A 1 'needle-[0-9a-f]+'
echo
echo "\$ printf 'n\\nb\\nr\\nup\\np path\\nq\\n' | pode replay --first 'value:\"needle-7f3a\"'"
printf 'n\nb\nr\nup\np path\nq\n' | "$pode" replay --trace .pode/demo --first 'value:"needle-7f3a"'
echo
echo "To see this trace in a web browser: $pode serve --trace examples/.pode/demo"
