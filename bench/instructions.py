"""Instruction counts for bench/run.py --instructions: the program's thread under callgrind.

On a noisy machine the wall clock moves by more than a change to the recorder does; instruction
counts do not. Each workload runs with smaller arguments (callgrind is about 50 times slower)
under plain python3.11 and under `pode record`, and the count of the thread that runs the program
(pode's main thread, callgrind's thread 1) is compared with plain python's. The other threads
(writer, indexer) are counted too, and so is `pode index --rebuild` (the indexer's whole work, all
its threads) of one trace, the one the first binary recorded, by every binary: two recordings of a
workload differ in where their frames end (that depends on timing), and so in their blocks, which
moved the count by more than most changes to the indexer do. valgrind cannot read the DWARF 5 that Swift writes, so pode
runs from a copy with its debug information stripped.
"""
import glob
import os
import shutil
import subprocess
import sys

# Arguments that make each workload about a tenth of its benchmark size (backtrack: queens(7);
# its sudoku part stays full size).
SMALL_ARGS = {"backtrack": ["7"], "tokenize_scan": ["3400"], "json_walk": ["7"], "simulation": ["8000"], "stdlib_mix": ["40"]}


def require_valgrind():
    if not shutil.which("valgrind"):
        sys.exit("bench: --instructions needs valgrind, which is not installed; "
                 "bench/run.sh --instructions installs it (scripts/setup.sh release bench)")


def stripped_copy(pode, scratch):
    """A copy of the pode binary without debug information (what valgrind can read)."""
    copy = os.path.join(scratch, "pode-stripped")
    shutil.copy2(pode, copy)
    if shutil.which("strip"):
        subprocess.run(["strip", "-g", copy], check=True)
    return copy


def callgrind(argv, cwd, out_prefix, separate_threads, required=True):
    """Runs argv under callgrind; returns (stdout bytes, {thread number: instructions}), or None
    when it fails and is not `required`."""
    for old in glob.glob(out_prefix + "*"):
        os.remove(old)
    options = ["--tool=callgrind", f"--callgrind-out-file={out_prefix}"]
    if separate_threads:
        options.append("--separate-threads=yes")
    p = subprocess.run(["valgrind", *options, *argv], cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        if not required:
            return None
        lines = p.stderr.decode(errors="replace").strip().splitlines()
        sys.exit(f"bench: {' '.join(argv[:3])} failed under valgrind ({p.returncode}): {lines[-1] if lines else ''}")
    counts = {}
    for path in glob.glob(out_prefix + "*"):
        thread = int(path.rsplit("-", 1)[1]) if path != out_prefix else 1
        for line in open(path, errors="replace"):
            if line.startswith("summary:"):
                counts[thread] = int(line.split()[1])
                break
    return p.stdout, counts


def measure(pode_binaries, names, scratch, python, workloads_dir):
    """Counts for each workload: plain python's, and per pode binary its program thread's and the rest."""
    require_valgrind()
    copies = []
    for i, pode in enumerate(pode_binaries):
        folder = os.path.join(scratch, f"bin{i}")
        os.makedirs(folder, exist_ok=True)
        copies.append((pode, stripped_copy(pode, folder)))
    rows = []
    for name in names:
        script = os.path.join(workloads_dir, name + ".py")
        args = SMALL_ARGS.get(name, [])
        print(f"bench: {name} under callgrind", file=sys.stderr)
        expected, plain = callgrind([python, script, *args], workloads_dir, os.path.join(scratch, "plain.out"), False)
        row = {"workload": name, "args": args, "plain_instructions": sum(plain.values()), "pode": []}
        shared = os.path.join(scratch, "first-trace")
        shutil.rmtree(shared, ignore_errors=True)
        for i, (pode, copy) in enumerate(copies):
            trace = os.path.join(scratch, "trace")
            shutil.rmtree(trace, ignore_errors=True)
            out, counts = callgrind([copy, "record", "-o", trace, script, *args], workloads_dir, os.path.join(scratch, "pode.out"), True)
            if out != expected:
                sys.exit(f"bench: {name} printed something else recorded under callgrind than plain")
            program = counts.get(1, 0)
            if i == 0:
                shutil.copytree(trace, shared)
            # The indexer alone: `pode index --rebuild`, all its threads, of the first binary's
            # trace (a copy, so that each binary starts from the same files); of its own when it
            # cannot read that one (a log format of its own).
            rebuilt, of = None, "first binary's"
            if i > 0:
                again = os.path.join(scratch, "first-trace-again")
                shutil.rmtree(again, ignore_errors=True)
                shutil.copytree(shared, again)
                rebuilt = callgrind([copy, "index", "--rebuild", "--trace", again], workloads_dir, os.path.join(scratch, "index.out"), False, required=False)
                if rebuilt is None:
                    of = "own"
            if rebuilt is None:
                rebuilt = callgrind([copy, "index", "--rebuild", "--trace", trace], workloads_dir, os.path.join(scratch, "index.out"), False)
            row["pode"].append({"binary": pode, "program_thread": program, "other_threads": sum(counts.values()) - program,
                                "program_ratio": program / max(row["plain_instructions"], 1),
                                "index_rebuild": sum(rebuilt[1].values()), "index_rebuild_trace": of})
        rows.append(row)
    return rows


def print_rows(rows):
    print("instructions (callgrind), program's thread against plain python3.11; smaller workload arguments\n")
    for r in rows:
        print(f"{r['workload']:<14} {' '.join(r['args']):<6} plain {r['plain_instructions'] / 1e9:7.2f} G")
        first = r["pode"][0] if r["pode"] else None
        for i, p in enumerate(r["pode"]):
            def change(key):
                return f" ({100 * (p[key] - first[key]) / first[key]:+.1f}% against the first)" if i and first[key] else ""
            print(f"  {p['binary']}\n    program thread {p['program_thread'] / 1e9:7.2f} G ({p['program_ratio']:.1f}x){change('program_thread')}, "
                  f"other threads {p['other_threads'] / 1e9:.2f} G\n"
                  f"    index --rebuild of the {p.get('index_rebuild_trace', 'own')} trace {p['index_rebuild'] / 1e9:.2f} G{change('index_rebuild')}")
