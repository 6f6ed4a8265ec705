#!/usr/bin/env bash
# Runs a command for at most LIMIT seconds. Past that it prints each process the command started
# that still runs (its command line, directory, and each thread's name, state and wait channel,
# with stacks when gdb is there), kills them all and exits 124: a hang then says where it is
# instead of using up the time CI gives a run.
# usage: scripts/bounded.sh LIMIT COMMAND [ARG...]
set -uo pipefail
limit=$1
shift
"$@" &
main=$!

descendants() {
    local p
    for p in $(pgrep -P "$1"); do
        echo "$p"
        descendants "$p"
    done
}

report_and_kill() {
    echo "bounded.sh: still running after $limit s, stopped: $*" >&2
    local pids p t
    pids=$(descendants "$main")
    for p in $pids; do
        echo "== process $p: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)(in $(readlink "/proc/$p/cwd" 2>/dev/null))" >&2
        for t in /proc/"$p"/task/*; do
            echo "   thread ${t##*/} $(cat "$t/comm" 2>/dev/null): state $(awk '{print $3}' "$t/stat" 2>/dev/null), in $(cat "$t/wchan" 2>/dev/null)" >&2
        done
        if command -v gdb > /dev/null; then
            timeout 60 gdb -p "$p" -batch -ex "thread apply all bt 25" 2>/dev/null | grep -E '^(Thread|#)' >&2
        fi
    done
    kill -KILL $pids "$main" 2>/dev/null
}

stopped=$(mktemp)
(
    for ((waited = 0; waited < limit; waited++)); do
        sleep 1
        kill -0 "$main" 2>/dev/null || exit 0
    done
    echo yes > "$stopped"
    report_and_kill "$@"
) &
watchdog=$!
wait "$main"
status=$?
kill "$watchdog" 2>/dev/null
wait "$watchdog" 2>/dev/null
[ -s "$stopped" ] && status=124
rm -f "$stopped"
exit "$status"
