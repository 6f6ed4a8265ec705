import Foundation
import XCTest

/// A recorded program behaves exactly as under python3.11: stdout, stderr, exit status.
final class TransparencyTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws { dir = try Harness.tempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func assertSame(_ program: String, args: [String] = [], stdin: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        try Harness.assertBehavesAsPython(program, args: args, stdin: stdin, in: dir, file: file, line: line)
    }

    func testUncaughtExceptionTraceback() throws {
        try assertSame("def f(x):\n    return 1 / x\nprint('before')\nf(0)\n")
    }

    func testSysExitWithNumberAndMessage() throws {
        try assertSame("import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)\n")
        try assertSame("import sys\nsys.exit('bad thing happened')\n")
    }

    func testArgvPathStdinAndExecutable() throws {
        try assertSame("""
        import os, subprocess, sys
        print(sys.argv, os.path.basename(sys.path[0]) == os.path.basename(os.getcwd()), __name__)
        print(sys.stdin.read().upper())
        print(subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True).stdout.strip())
        print(sys.executable.endswith("python3.11"))
        """, args: ["one", "--two"], stdin: "piped input")
    }

    func testThreadsAndGenerators() throws {
        try assertSame("""
        import threading
        out = []
        def gen(n):
            for i in range(n):
                yield i * i
        def work(k):
            out.append(sum(gen(k)))
        ts = [threading.Thread(target=work, args=(k,)) for k in range(5)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        print(sorted(out))
        """)
    }

    func testModuleAndCommandForms() throws {
        let plain = try Harness.run(Harness.python, ["-c", "import sys; print(sys.argv, __name__)", "x"], in: dir)
        let recorded = try Harness.pode(["record", "-c", "import sys; print(sys.argv, __name__)", "x"], in: dir)
        XCTAssertEqual(recorded.stdout, plain.stdout)
        let json = "{\"b\": [1, 2], \"a\": null}"
        let plainM = try Harness.run(Harness.python, ["-m", "json.tool", "--sort-keys"], in: dir, stdin: json)
        let recordedM = try Harness.pode(["record", "-m", "json.tool", "--sort-keys"], in: dir, stdin: json)
        XCTAssertEqual(recordedM.stdout, plainM.stdout)
        XCTAssertEqual(recordedM.status, plainM.status)
    }

    /// os.fork() and multiprocessing: no child hangs, the output is python3's, and each child
    /// records into its own part of the trace, searched together with the parent by pid.
    func testForkedChildrenAreRecordedInTheirOwnPartsAndSearchedTogether() throws {
        try assertSame("""
        import os, sys, multiprocessing
        def square(x):
            result = x * x
            return result
        def label(tag):
            marker = f"{tag}-marker"
            return marker
        label("parent")
        pid = os.fork()
        if pid == 0:
            label("child")
            print("child", flush=True)
            sys.exit(5)
        _, status = os.waitpid(pid, 0)
        print("parent saw", os.waitstatus_to_exitcode(status))
        pool = multiprocessing.Pool(2)
        print(pool.map(square, range(5)))
        pool.close()
        pool.join()
        with multiprocessing.Pool(2) as pool:
            print(pool.map(square, range(3)))
        marker = "after-fork-ok"
        """)
        let ls = try Harness.pode(["ls"], in: dir)
        XCTAssertTrue(ls.stdout.contains("  0 "), "the parent's exit status is kept: \(ls.stdout)")
        XCTAssertEqual(try Harness.pode(["search", "--count", "value:after-fork-ok"], in: dir).stdout, "1\n")

        // One part per child: the forked one and four pool workers.
        let root = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir + "/.pode").first.map { dir + "/.pode/" + $0 })
        let rootMeta = try metadata(root)
        let children = try FileManager.default.contentsOfDirectory(atPath: root + "/processes").sorted()
        XCTAssertEqual(children.count, 5, "\(children)")
        var forkedChild: String?
        for child in children {
            let meta = try metadata(root + "/processes/" + child)
            XCTAssertEqual(meta["parentPid"] as? Int, rootMeta["pid"] as? Int)
            XCTAssertEqual(meta["pid"] as? Int, Int(child))
            XCTAssertEqual(meta["state"] as? String, "complete", "every child's part is finished: \(meta)")
            if meta["exitStatus"] as? Int == 5 { forkedChild = child }
        }
        let childPid = try XCTUnwrap(forkedChild, "the os.fork() child's part has its exit status 5")

        // Searched together: the marker set in the child is found in the child's part, and named so.
        let first = try Harness.pode(["search", "--first", "value:\"child-marker\""], in: dir)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("[pid \(childPid)] #"), first.stdout)
        let parentMarker = Harness.jsonLines(try Harness.pode(["search", "--json", "value:\"parent-marker\""], in: dir).stdout, type: "match")
        XCTAssertEqual(parentMarker.map { $0["kind"] as? String }, ["line", "return"])
        XCTAssertTrue(parentMarker.allSatisfy { $0["pid"] as? Int == rootMeta["pid"] as? Int },
                      "the events before the fork are the parent's only: \(parentMarker)")
        // Every square computed by a worker, counted per process.
        let facets = try Harness.pode(["search", "--json", "--facets", "pid", "--count", "var:result func:square"], in: dir)
        XCTAssertEqual(Harness.jsonLines(facets.stdout, type: "count").first?["count"] as? Int, 8)
        let perPid = try XCTUnwrap(Harness.jsonLines(facets.stdout, type: "facets").first?["pid"] as? [String: Int])
        XCTAssertEqual(perPid.values.reduce(0, +), 8)
        XCTAssertTrue(Set(perPid.keys).isSubset(of: Set(children)), "\(perPid) \(children)")
        let hits = Harness.jsonLines(try Harness.pode(["search", "--json", "var:result"], in: dir).stdout, type: "match")
        XCTAssertEqual(Set(hits.compactMap { $0["value"] as? String ?? (($0["values"] as? [[String: Any]])?.first?["value"] as? String) }),
                       ["0", "1", "4", "9", "16"])
        XCTAssertTrue(hits.allSatisfy { children.contains(String($0["pid"] as? Int ?? 0)) })

        // One process at a time for the other commands, and for search with --pid.
        let only = try Harness.pode(["search", "--pid", childPid, "--count", "seq:1.."], in: dir)
        XCTAssertEqual(only.stdout, "\(try metadata(root + "/processes/" + childPid)["events"] as? Int ?? -1)\n")
        let firstSeq = try XCTUnwrap(Harness.jsonLines(try Harness.pode(["search", "--pid", childPid, "--json", "--first", "value:\"child-marker\""], in: dir).stdout, type: "match").first?["seq"] as? Int)
        let show = try Harness.pode(["show", "--pid", childPid, String(firstSeq)], in: dir)
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.contains("marker = 'child-marker'"), show.stdout)
        let history = try Harness.pode(["history", "--pid", childPid, "marker"], in: dir)
        XCTAssertTrue(history.stdout.contains("'child-marker'") && !history.stdout.contains("'parent-marker'"), history.stdout)
        let missing = try Harness.pode(["search", "--pid", "1", "marker"], in: dir)
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.hasPrefix("pode: no process 1 in the trace"), missing.stderr)
    }

    func metadata(_ trace: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: trace + "/trace.json"))) as! [String: Any]
    }
}
