import Foundation
import XCTest

/// Programs that end badly, trace themselves, move around or hold monstrous values: each behaves
/// as under python3.11, and its trace holds every event up to its end and opens cleanly.
final class MisbehavingTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws { dir = try Harness.tempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Runs `program` unrecorded and recorded (extra pode options first); asserts the same
    /// output and status, and that the trace opens. Returns the trace's directory name.
    @discardableResult
    func assertSame(_ program: String, options: [String] = [], stdin: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try Harness.assertBehavesAsPython(program, podeOptions: ["-o", "t"] + options, stdin: stdin, in: dir, file: file, line: line)
        let all = try Harness.pode(["search", "--trace", "t", "--count", "seq:1.."], in: dir)
        XCTAssertEqual(all.status, 0, "the trace opens: \(all.stderr)", file: file, line: line)
        return "t"
    }

    func count(_ query: String) throws -> String {
        try Harness.pode(["search", "--trace", "t", "--count", query], in: dir).stdout
    }

    /// The forked children's parts of trace t (their pids), each asserted complete (`what`
    /// names a child in the message).
    func childParts(_ what: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let parts = try FileManager.default.contentsOfDirectory(atPath: dir + "/t/processes")
        for part in parts {
            let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/t/processes/" + part + "/trace.json"))) as! [String: Any]
            XCTAssertEqual(meta["state"] as? String, "complete", "\(what) \(part): \(meta)", file: file, line: line)
        }
        return parts
    }

    func testOsExitKeepsEveryEventAndItsStatus() throws {
        try assertSame("""
        import os, sys
        for i in range(2000):
            marker = f"step-{i}"
        print("leaving", flush=True)
        os._exit(3)
        """)
        XCTAssertEqual(try count("var:marker"), "2000\n", "no event is lost to os._exit")
        XCTAssertTrue(try Harness.pode(["ls", "--root", "."], in: dir).stdout.contains("  3 "))
    }

    /// Forks while pode's writer and indexer are at work: each child must start, record and end
    /// (a child that inherited a lock one of them held at the fork would wait forever: a build
    /// without RecordingSession.holdThreadsForFork hung in 6 of 7 runs of this test).
    func testForksWhilePodesThreadsWorkNeverHangTheChildren() throws {
        try Harness.write("""
        import os
        for k in range(60):
            for i in range(3000):
                marker = f"step-{k}-{i}"
                d = {i: [marker]}
            pid = os.fork()
            if pid == 0:
                for i in range(300):
                    child_marker = f"child-{k}-{i}"
                os._exit(0)
            os.waitpid(pid, 0)
        print("forked 60 times")
        """, to: "f.py", in: dir)
        let r = try Harness.pode(["record", "-o", "t", "f.py"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "forked 60 times\n")
        XCTAssertEqual(try count("var:marker"), "180000\n")
        XCTAssertEqual(try childParts("child").count, 60)
    }

    /// os.exec* replaces the program: every event before it is kept (the ring is written
    /// first), in a forked child too, and the trace says what ran instead.
    func testExecKeepsEveryEventBeforeItInTheParentAndInAChild() throws {
        try assertSame("""
        import os, sys
        for i in range(2000):
            marker = f"step-{i}"
        sys.stdout.flush()
        if os.fork() == 0:
            for i in range(500):
                child_marker = f"child-{i}"
            os.execv("/bin/echo", ["echo", "the child became echo"])
        os.wait()
        os.execvp("echo", ["echo", "the parent became echo"])
        """)
        XCTAssertEqual(try count("var:marker"), "2000\n", "no event is lost to exec")
        XCTAssertEqual(try count("var:child_marker"), "500\n", "nor in the forked child")
        let list = try Harness.pode(["ls", "--root", "."], in: dir)
        XCTAssertTrue(list.stdout.contains(" exec ") && list.stdout.contains("(+1 process)"), list.stdout)
    }

    /// A pool that ends (SIGTERM to its workers) while a worker is still starting: the worker's
    /// part waits for the signal until it exists, then is finished like any other.
    func testPoolsEndedWhileTheirWorkersStartLeaveFinishedParts() throws {
        try assertSame("""
        import multiprocessing
        def sq(x):
            return x * x
        if __name__ == "__main__":
            for k in range(10):
                with multiprocessing.Pool(3) as pool:
                    pool.map(sq, range(1))
            print("done")
        """)
        let parts = try childParts("worker")
        XCTAssertFalse(parts.isEmpty)
        XCTAssertLessThanOrEqual(parts.count, 30)
    }

    func testSIGTERMLosesNothingAndEndsTheProcessByTheSignal() throws {
        let program = """
        import os, time
        for i in range(3000):
            marker = f"beat-{i}"
        open("ready", "w").close()
        while True:
            time.sleep(0.01)
        """
        try Harness.write(program, to: "w.py", in: dir)
        for (executable, args) in [(Harness.python, ["w.py"]), (Harness.pode, ["record", "-o", "t", "w.py"])] {
            let p = try Harness.startUntilReady(executable, args, in: dir)
            kill(p.processIdentifier, SIGTERM)
            Harness.waitForExit(p)
            XCTAssertEqual(p.terminationReason, .uncaughtSignal, executable)
            XCTAssertEqual(p.terminationStatus, SIGTERM, executable)
        }
        XCTAssertEqual(try count("var:marker"), "3000\n", "every event before the signal is kept")
        XCTAssertTrue(try Harness.pode(["ls", "--root", "."], in: dir).stdout.contains("signal"))
    }

    func testRecursionErrorAndDeepStacks() throws {
        try assertSame("""
        import sys
        def down(n):
            return down(n + 1)
        try:
            down(0)
        except RecursionError as e:
            print("caught", type(e).__name__)
        sys.setrecursionlimit(300)
        down(0)
        """)
        XCTAssertNotEqual(try count("kind:exception type:RecursionError func:down"), "0\n")
        XCTAssertEqual(try count("kind:exception type:RecursionError func:<module>"), "2\n", "caught once, then uncaught")
    }

    func testThreadsThatOutliveTheMainFunction() throws {
        try assertSame("""
        import threading, time
        def late(name, pause):
            time.sleep(pause)
            finished = name + "-finished"
            print(finished, flush=True)
        def main():
            threading.Thread(target=late, args=("worker", 0.2)).start()
            threading.Thread(target=late, args=("daemon", 5), daemon=True).start()
            print("main returns", flush=True)
        main()
        """)
        XCTAssertEqual(try count("value:worker-finished"), "1\n", "a thread that outlives main is recorded to its end")
        XCTAssertEqual(try count("value:daemon-finished"), "0\n", "a daemon thread dies with the process, as under python3")
    }

    func testChangingDirectoryAndDeletingItsOwnScript() throws {
        try assertSame("""
        import os, sys, tempfile
        here = os.getcwd()
        os.remove(sys.argv[0])
        os.chdir(tempfile.gettempdir())
        gone = os.path.exists(os.path.join(here, "p.py"))
        print("script still there:", gone)
        """)
        XCTAssertEqual(try count("var:gone value:False"), "1\n")
        let show = try Harness.pode(["show", "--trace", "t", "--first", "var:gone"], in: dir)
        XCTAssertTrue(show.stdout.contains("os.remove(sys.argv[0])"), "the kept source still shows the deleted script: \(show.stdout)")
    }

    func testTheProgramsFilesAreNumberedAsUnderPython() throws {
        try assertSame("""
        import os, selectors, socket
        first = os.open("p.py", os.O_RDONLY)
        pair = socket.socketpair()
        sel = selectors.DefaultSelector()
        print(first, [s.fileno() for s in pair], sel.fileno())
        """)
    }

    func testAProgramThatTracesItselfKeepsItsTracerAndIsStillRecorded() throws {
        try assertSame("""
        import sys, threading
        seen = []
        def tracer(frame, event, arg):
            if frame.f_code.co_name == "work":
                seen.append(event)
            return tracer
        def work(n):
            doubled = n * 2
            return doubled
        print(sys.gettrace(), threading.gettrace())
        sys.settrace(tracer)
        work(1)
        sys.settrace(None)
        threading.settrace(tracer)
        t = threading.Thread(target=work, args=(2,))
        t.start(); t.join()
        print(sys.gettrace(), threading.gettrace() is tracer, seen)
        def broken(frame, event, arg):
            raise ValueError("tracer broke")
        sys.settrace(broken)
        try:
            work(3)
        except ValueError as e:
            print("raised:", e, sys.gettrace())
        work(4)
        """)
        XCTAssertEqual(try count("func:work kind:return"), "4\n", "work(1), work(2) in a thread and work(4) are recorded whole, work(3) up to its exception")
        XCTAssertEqual(try count("func:work kind:call"), "4\n")
    }

    /// The program's own trace function runs Python code with no event of its own, between two
    /// lines that change nothing: what it changes must still be recorded at the next event.
    func testWhatTheProgramsOwnTracerChangesIsRecorded() throws {
        try assertSame("""
        import sys
        seen = []
        def tracer(frame, event, arg):
            if frame.f_code.co_name == "work" and event == "line":
                seen.append(frame.f_lineno)
            return tracer
        def work(log):
            mine = log
            a = 1
            b = 2
            c = 3
            return len(mine)
        sys.settrace(tracer)
        print(work(seen))
        sys.settrace(None)
        """)
        let r = try Harness.pode(["history", "--trace", "t", "mine", "--func", "work", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let texts = Harness.jsonLines(r.stdout, type: "change").compactMap { change in
            (change["values"] as? [[String: Any]])?.first { $0["name"] as? String == "mine" }?["value"] as? String
        }
        XCTAssertEqual(texts, ["[8]", "[8, 9]", "[8, 9, 10]", "[8, 9, 10, 11]", "[8, 9, 10, 11, 12]"], r.stdout)
    }

    func testMonstrousValues() throws {
        try assertSame("""
        big = "x" * 10_000_000 + "needle-at-the-end"
        nested = []
        for _ in range(5000):
            nested = [nested]
        me = {}
        me["me"] = me
        raw = bytes(range(256)) + b"\\xff\\xfe"
        lone = "a\\ud800b\\udfff"
        done = (len(big), len(raw), len(lone))
        print(done)
        """)
        XCTAssertEqual(try count("var:done"), "1\n")
        let big = try Harness.pode(["search", "--trace", "t", "--json", "var:big"], in: dir)
        let values = Harness.jsonLines(big.stdout, type: "match").flatMap { $0["values"] as? [[String: Any]] ?? [] }.filter { $0["name"] as? String == "big" }
        XCTAssertEqual(values.first?["truncated"] as? Bool, true)
        XCTAssertEqual(values.first?["full_length"] as? Int, 10_000_017)
        let lone = try Harness.pode(["search", "--trace", "t", "--json", "var:lone"], in: dir)
        XCTAssertTrue(lone.stdout.contains(#"'a\\ud800b\\udfff'"#), "lone surrogates are shown escaped, as repr shows them: \(lone.stdout)")
        XCTAssertTrue(try Harness.pode(["search", "--trace", "t", "var:me"], in: dir).stdout.contains("{'me': {...}}"))
    }

    func testReprsThatRaiseRecurseOrHangUnderReprFull() throws {
        try assertSame("""
        import time
        class Raises:
            def __repr__(self):
                raise RuntimeError("no repr for you")
        class Recurses:
            def __repr__(self):
                return repr(self)
        class Hangs:
            def __repr__(self):
                while True:
                    pass
        a = Raises()
        b = Recurses()
        started = time.monotonic()
        c = Hangs()
        for i in range(3):
            c.n = i
        took = time.monotonic() - started
        print("made all three", "quickly" if took < 10 else "slowly")
        try:
            x = 1
            print("and the program goes on with no exception of pode's", x)
        except BaseException as e:
            print("caught", type(e).__name__)
        """, options: ["--repr=full"])
        XCTAssertTrue(try Harness.pode(["search", "--trace", "t", "var:a"], in: dir).stdout.contains("<repr raised RuntimeError>"))
        XCTAssertTrue(try Harness.pode(["search", "--trace", "t", "var:b"], in: dir).stdout.contains("<repr raised RecursionError>"))
        let hung = try Harness.pode(["search", "--trace", "t", "--json", "var:c"], in: dir)
        let values = Harness.jsonLines(hung.stdout, type: "match").compactMap { ($0["values"] as? [[String: Any]])?.first { $0["name"] as? String == "c" }?["value"] as? String }
        XCTAssertFalse(values.isEmpty, hung.stdout)
        XCTAssertTrue(values.allSatisfy { $0 == "<repr timed out>" }, "\(values)")
    }
}
