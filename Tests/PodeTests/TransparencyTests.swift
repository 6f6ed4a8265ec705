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

    func testForkAndMultiprocessingNeverHangAndKeepTheParentsTrace() throws {
        try assertSame("""
        import os, sys, multiprocessing
        def square(x):
            return x * x
        pid = os.fork()
        if pid == 0:
            print("child", flush=True)
            sys.exit(5)
        _, status = os.waitpid(pid, 0)
        print("parent saw", os.waitstatus_to_exitcode(status))
        with multiprocessing.Pool(2) as pool:
            print(pool.map(square, range(5)))
        marker = "after-fork-ok"
        """)
        let ls = try Harness.pode(["ls"], in: dir)
        XCTAssertTrue(ls.stdout.contains("  0 "), "the parent's exit status is kept: \(ls.stdout)")
        XCTAssertEqual(try Harness.pode(["search", "--count", "value:after-fork-ok"], in: dir).stdout, "1\n")
    }
}
