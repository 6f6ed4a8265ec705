"""pode's benchmark: recording cost against plain Python (and, with --peers, against other tools),
and query latencies on a large trace. Run it through bench/run.sh, which builds pode first.

Every ratio is measured in the same run as its baseline: plain and recorded runs alternate
(A B A B ...), so a noisy machine slows both alike. Results are printed as a table and written
as JSON (--json PATH, default bench/results/latest.json).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS_DIR = os.path.join(HERE, "workloads")
WORKLOADS = ["backtrack", "tokenize_scan", "json_walk", "simulation", "stdlib_mix"]
PYTHON = "/usr/bin/python3.11"

# The targets of issue 3 (ratios are slowdowns against plain python3.11 in the same run).
TARGETS = {
    "median_running_ratio": 4.0,
    "worst_running_ratio": 10.0,
    "median_searchable_ratio": 6.0,
    "events_per_second": 1_000_000,
    "bytes_per_event": 64,
    "latency_ms": {"first": 50, "count": 100, "facets": 300, "show": 100, "history": 100},
}


def run_process(argv, cwd, stdout_path, env=None):
    """Runs argv to the end; returns (seconds, exit status, peak RSS in KiB) measured for that child only."""
    with open(stdout_path, "wb") as out:
        start = time.time()
        p = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
        # wait4 gives this child's own resource usage (peak memory), which Popen.wait would lose.
        stderr = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.time() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        p.stderr.close()
    return seconds, p.returncode, usage.ru_maxrss, start, stderr.decode(errors="replace")


def directory_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def iso_seconds(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure_workload(pode, name, runs, scratch, record_args):
    script = os.path.join(WORKLOADS_DIR, name + ".py")
    plain, running, searchable, rates, memory, per_event, events = [], [], [], [], [], [], []
    plain_memory = []
    expected = None
    for i in range(runs):
        # A: plain python
        out = os.path.join(scratch, "plain.out")
        seconds, status, rss, _, err = run_process([PYTHON, script], WORKLOADS_DIR, out)
        if status != 0:
            sys.exit(f"bench: {name} failed under plain python ({status}): {err.strip()}")
        checksum = open(out, "rb").read()
        if expected is None:
            expected = checksum
        plain.append(seconds)
        plain_memory.append(rss)
        # B: recorded
        trace = os.path.join(scratch, f"{name}-{i}")
        out = os.path.join(scratch, "recorded.out")
        seconds, status, rss, start, err = run_process([pode, "record", "-o", trace, *record_args, script], WORKLOADS_DIR, out)
        if status != 0:
            sys.exit(f"bench: {name} failed under pode record ({status}): {err.strip()}")
        if open(out, "rb").read() != expected:
            sys.exit(f"bench: {name} printed a different checksum when recorded:\n{open(out).read()}\nexpected:\n{expected.decode()}")
        meta = json.load(open(os.path.join(trace, "trace.json")))
        program_seconds = iso_seconds(meta["programEnded"]) - start
        count = meta["events"]
        size = directory_bytes(trace)
        running.append(program_seconds / plain[-1])
        searchable.append(seconds / plain[-1])
        rates.append(count / seconds)
        memory.append(rss)
        per_event.append(size / max(count, 1))
        events.append(count)
        shutil.rmtree(trace)
    return {
        "workload": name,
        "checksum": expected.decode().strip(),
        "plain_seconds": summary(plain),
        "plain_peak_kib": summary(plain_memory),
        "events": summary(events),
        "running_ratio": summary(running),
        "searchable_ratio": summary(searchable),
        "events_per_second": summary(rates),
        "peak_kib": summary(memory),
        "bytes_per_event": summary(per_event),
    }


# ---- peers -------------------------------------------------------------------------------

PEER_RUNNER = r'''
import os, runpy, sys
tool, output, script = sys.argv[1], sys.argv[2], sys.argv[3]
sys.argv = [script] + sys.argv[4:]
sys.path[0] = os.path.dirname(os.path.abspath(script))
if tool == "hunter":
    import hunter
    stream = open(output, "w")
    # Every call, line, return and exception outside the stdlib, with the local variables.
    hunter.trace(hunter.Q(stdlib=False, action=hunter.VarsSnooper(stream=stream)))
    runpy.run_path(script, run_name="__main__")
    hunter.stop()
elif tool == "pysnooper":
    import pysnooper
    # snoop the module body and every function it calls (depth), with values, to a file.
    with pysnooper.snoop(output, depth=1000, max_variable_length=256):
        runpy.run_path(script, run_name="__main__")
'''


def setup_peers(scratch):
    venv = os.path.join(scratch, "peers-venv")
    subprocess.run([PYTHON, "-m", "venv", venv], check=True)
    pip = os.path.join(venv, "bin", "pip")
    print("bench: installing hunter, PySnooper and VizTracer from PyPI into a temporary virtualenv", file=sys.stderr)
    subprocess.run([pip, "install", "-q", "hunter", "pysnooper", "viztracer"], check=True, stdout=subprocess.DEVNULL)
    runner = os.path.join(scratch, "peer_runner.py")
    open(runner, "w").write(PEER_RUNNER)
    py = os.path.join(venv, "bin", "python")
    versions = subprocess.run([py, "-c", "import importlib.metadata as m; print(' '.join(p + '=' + m.version(p) for p in ('hunter', 'pysnooper', 'viztracer')))"],
                              capture_output=True, text=True).stdout.strip()
    return venv, py, runner, versions


def peer_commands(venv, py, runner, script, output):
    return {
        "hunter (VarsSnooper)": [py, runner, "hunter", output, script],
        "PySnooper (depth=1000)": [py, runner, "pysnooper", output, script],
        "VizTracer (function level, args and return values)": [os.path.join(venv, "bin", "viztracer"), "--quiet", "--tracer_entries", "10000000",
                                                               "--log_func_args", "--log_func_retval", "-o", output, script],
    }


def measure_peers(venv, py, runner, name, runs, scratch, largest):
    script = os.path.join(WORKLOADS_DIR, name + ".py")
    results = {}
    for tool in peer_commands(venv, py, runner, script, "x"):
        ratios, memory, sizes = [], [], []
        for i in range(runs):
            out = os.path.join(scratch, "plain.out")
            plain, status, _, _, err = run_process([PYTHON, script], WORKLOADS_DIR, out)
            expected = open(out, "rb").read()
            output = os.path.join(scratch, "peer-output" + (".json" if "VizTracer" in tool else ".txt"))
            argv = peer_commands(venv, py, runner, script, output)[tool]
            seconds, status, rss, _, err = run_process(argv, WORKLOADS_DIR, out)
            got = open(out, "rb").read()
            if status != 0 or expected not in got:
                results[tool] = {"error": f"exit {status}: {err.strip()[-300:]}"}
                break
            ratios.append(seconds / plain)
            memory.append(rss)
            size = os.path.getsize(output) if os.path.exists(output) else 0
            sizes.append(size)
            if size > largest.get("size", 0) and "VizTracer" not in tool:
                shutil.copy(output, os.path.join(scratch, "largest-peer-trace.txt"))
                largest.update(size=size, tool=tool, workload=name)
            if os.path.exists(output):
                os.remove(output)
        else:
            results[tool] = {"ratio": summary(ratios), "peak_kib": summary(memory), "output_bytes": summary(sizes)}
    return results


# ---- large-trace query latencies -------------------------------------------------------

BIG_PROGRAM = r'''
import sys

class Account:
    def __init__(self, ident):
        self.ident = ident
        self.balance = 0

def step(accounts, i):
    account = accounts[i % len(accounts)]
    amount = (i * 7919) % 1000
    account.balance += amount
    label = "txn-%d" % (i % 5000)
    if i == NEEDLE_AT:
        label = "needle-%d" % i
    return amount

def main(steps):
    accounts = [Account(k) for k in range(64)]
    grand = 0
    phase = 0
    for i in range(steps):
        phase = i * 10 // steps
        grand += step(accounts, i)
    print(grand)

STEPS = int(sys.argv[1]) // EVENTS_PER_STEP
NEEDLE_AT = STEPS * 2 // 3
main(STEPS)
'''
# Events one step of BIG_PROGRAM records: main's 2 lines, step's call, 7 lines and return, and the loop.
EVENTS_PER_STEP = 11


def timed(argv, cwd, timeout=None):
    start = time.perf_counter()
    p = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=timeout)
    return time.perf_counter() - start, p


def measure_latencies(pode, events, scratch, repeats):
    program = os.path.join(scratch, "big.py")
    open(program, "w").write(BIG_PROGRAM.replace("EVENTS_PER_STEP", str(EVENTS_PER_STEP)))
    trace = os.path.join(scratch, "big-trace")
    print(f"bench: recording a trace of about {events:,} events", file=sys.stderr)
    start = time.time()
    seconds, status, rss, _, err = run_process([pode, "record", "-o", trace, program, str(events)], scratch, os.path.join(scratch, "big.out"))
    if status != 0:
        sys.exit(f"bench: recording the large trace failed: {err.strip()}")
    meta = json.load(open(os.path.join(trace, "trace.json")))
    needle = events // EVENTS_PER_STEP * 2 // 3
    queries = {
        "first": ["search", "--trace", trace, "--first", f"needle-{needle}"],
        "count": ["search", "--trace", trace, "--count", "func:step var:amount"],
        "facets": ["search", "--trace", trace, "--facets", "--limit", "1", "txn"],
        "show": ["show", "--trace", trace, str(meta["events"] // 2)],
        "history": ["history", "--trace", trace, "phase", "--func", "main"],
        "grep -c": ["grep", "--trace", trace, "-c", r"needle-[0-9]+"],
        # The same anchored at a word start: its literal word can narrow the search through the index.
        "grep -c \\b": ["grep", "--trace", trace, "-c", r"\bneedle-[0-9]+"],
    }
    result = {"events": meta["events"], "record_seconds": seconds, "record_peak_kib": rss,
              "bytes_per_event": directory_bytes(trace) / max(meta["events"], 1), "latency_ms": {}}
    for name, args in queries.items():
        times = []
        for _ in range(repeats):
            try:
                t, p = timed([pode, *args], scratch, timeout=120)
            except subprocess.TimeoutExpired:
                times = None
                result["latency_ms"][name] = {"error": "took longer than 120 s"}
                break
            if p.returncode not in (0, 1):
                message = p.stderr.decode(errors="replace").strip().splitlines()
                times = None
                result["latency_ms"][name] = {"error": message[0] if message else f"exit {p.returncode}"}
                break
            times.append(t * 1000)
        if times:
            result["latency_ms"][name] = summary(times)
    result["trace"] = trace
    return result


def grep_baseline(path, repeats):
    times = []
    for _ in range(repeats):
        t, p = timed(["grep", "-c", "-E", r"needle-[0-9]+|1234", path], os.path.dirname(path))
        times.append(t * 1000)
    return summary(times)


# ---- output --------------------------------------------------------------------------------

def fmt(s, unit="", digits=1):
    if s is None:
        return "-"
    return f"{s['median']:.{digits}f}{unit} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"host": platform.node(), "cpu": model, "cores": os.cpu_count(), "kernel": platform.release(),
            "python": subprocess.run([PYTHON, "--version"], capture_output=True, text=True).stdout.strip()}


def main():
    parser = argparse.ArgumentParser(description="Measure pode's recording cost and query latency.")
    parser.add_argument("--pode", required=True, help="the pode binary to measure")
    parser.add_argument("--runs", type=int, default=3, help="plain/recorded pairs per workload (default 3)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated workload names")
    parser.add_argument("--peers", action="store_true", help="also measure hunter, PySnooper and VizTracer (installed from PyPI)")
    parser.add_argument("--large", action="store_true", help="query latencies on a 100-million-event trace too")
    parser.add_argument("--events", type=int, default=10_000_000, help="events in the trace for query latencies")
    parser.add_argument("--no-latency", action="store_true", help="skip the large-trace query latencies")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each latency query (default 5)")
    parser.add_argument("--record-args", default="", help="extra arguments for pode record, e.g. --no-values")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"), help="where to write the results")
    parser.add_argument("--instructions", action="store_true",
                        help="instead, count the program thread's instructions under callgrind (needs valgrind), against plain python")
    parser.add_argument("--baseline", help="with --instructions, another pode binary to count first and compare against")
    args = parser.parse_args()
    args.pode = os.path.abspath(args.pode)
    if args.instructions:
        import instructions
        binaries = ([os.path.abspath(args.baseline)] if args.baseline else []) + [args.pode]
        scratch = tempfile.mkdtemp(prefix="pode-bench-")
        try:
            rows = instructions.measure(binaries, args.workloads.split(","), scratch, PYTHON, WORKLOADS_DIR)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        instructions.print_rows(rows)
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "date": datetime.datetime.now().isoformat(timespec="seconds"),
                       "instructions": rows}, f, indent=2)
        print(f"\nresults written to {args.json}")
        return

    scratch = tempfile.mkdtemp(prefix="pode-bench-")
    results = {"machine": machine(), "date": datetime.datetime.now().isoformat(timespec="seconds"),
               "pode": args.pode, "record_args": args.record_args, "runs": args.runs, "targets": TARGETS}
    try:
        rows = []
        for name in args.workloads.split(","):
            print(f"bench: {name}", file=sys.stderr)
            rows.append(measure_workload(args.pode, name, args.runs, scratch, args.record_args.split()))
        results["workloads"] = rows
        running = [r["running_ratio"]["median"] for r in rows]
        searchable = [r["searchable_ratio"]["median"] for r in rows]
        results["summary"] = {
            "median_running_ratio": statistics.median(running),
            "worst_running_ratio": max(running),
            "median_searchable_ratio": statistics.median(searchable),
            "median_events_per_second": statistics.median(r["events_per_second"]["median"] for r in rows),
            "median_bytes_per_event": statistics.median(r["bytes_per_event"]["median"] for r in rows),
            "worst_bytes_per_event": max(r["bytes_per_event"]["median"] for r in rows),
        }
        if args.peers:
            venv, py, runner, versions = setup_peers(scratch)
            results["peer_versions"] = versions
            largest = {}
            for row in rows:
                print(f"bench: peers on {row['workload']}", file=sys.stderr)
                row["peers"] = measure_peers(venv, py, runner, row["workload"], max(1, min(args.runs, 2)), scratch, largest)
            if largest:
                results["peer_grep_baseline"] = {"tool": largest["tool"], "workload": largest["workload"], "bytes": largest["size"],
                                                  "grep_c_ms": grep_baseline(os.path.join(scratch, "largest-peer-trace.txt"), 3)}
        if not args.no_latency:
            sizes = [args.events] + ([100_000_000] if args.large else [])
            results["latency"] = []
            for events in sizes:
                lat = measure_latencies(args.pode, events, scratch, args.repeats)
                shutil.rmtree(lat.pop("trace"))
                results["latency"].append(lat)
        print_table(results)
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
        print(f"\nresults written to {args.json}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def print_table(results):
    m = results["machine"]
    print(f"machine: {m['host']}, {m['cpu']}, {m['cores']} cores, {m['python']}; runs per workload: {results['runs']}"
          + (f"; pode record {results['record_args']}" if results["record_args"] else ""))
    print("values are median (min-max); ratios are slowdowns against plain python3.11 in the same run\n")
    header = f"{'workload':<14} {'python s':>8} {'events':>10} {'running':>18} {'searchable':>18} {'events/s':>24} {'peak MiB':>10} {'B/event':>16}"
    print(header)
    print("-" * len(header))
    for r in results["workloads"]:
        rate = r["events_per_second"]
        print(f"{r['workload']:<14} {r['plain_seconds']['median']:>8.3f} {int(r['events']['median']):>10,} "
              f"{fmt(r['running_ratio'], 'x'):>18} {fmt(r['searchable_ratio'], 'x'):>18} "
              f"{rate['median']:>10,.0f} ({rate['min'] / 1e6:.2f}-{rate['max'] / 1e6:.2f}M) {r['peak_kib']['median'] / 1024:>10.0f} "
              f"{fmt(r['bytes_per_event']):>16}")
        for tool, p in r.get("peers", {}).items():
            if "error" in p:
                print(f"  {tool}: failed: {p['error']}")
            else:
                print(f"  {tool:<52} {fmt(p['ratio'], 'x'):>22}  peak {p['peak_kib']['median'] / 1024:.0f} MiB, "
                      f"output {p['output_bytes']['median'] / 1e6:.1f} MB")
    s = results["summary"]
    t = TARGETS
    print()
    print(f"median running ratio     {s['median_running_ratio']:8.2f}x   target <= {t['median_running_ratio']}x")
    print(f"worst running ratio      {s['worst_running_ratio']:8.2f}x   target <= {t['worst_running_ratio']}x")
    print(f"median searchable ratio  {s['median_searchable_ratio']:8.2f}x   target <= {t['median_searchable_ratio']}x")
    print(f"median events/s          {s['median_events_per_second']:10,.0f}   target >= {t['events_per_second']:,}")
    print(f"bytes/event median/worst {s['median_bytes_per_event']:5.1f}/{s['worst_bytes_per_event']:.1f}   target <= {t['bytes_per_event']}")
    if "peer_grep_baseline" in results:
        b = results["peer_grep_baseline"]
        print(f"\ngrep -c over the largest peer trace ({b['tool']} on {b['workload']}, {b['bytes'] / 1e6:.0f} MB): {fmt(b['grep_c_ms'], ' ms', 0)}")
    for lat in results.get("latency", []):
        print(f"\nquery latency on a trace of {lat['events']:,} events (recorded in {lat['record_seconds']:.1f} s, "
              f"{lat['bytes_per_event']:.1f} B/event, peak {lat['record_peak_kib'] / 1024:.0f} MiB), whole process, median (min-max):")
        for name, v in lat["latency_ms"].items():
            target = t["latency_ms"].get(name)
            goal = f"target <= {target} ms" if target else ""
            if "error" in v:
                print(f"  {name:<8} not measured: {v['error']}")
            else:
                print(f"  {name:<8} {fmt(v, ' ms', 0):>22}   {goal}")


if __name__ == "__main__":
    main()
