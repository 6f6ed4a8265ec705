import Foundation
import XCTest

/// Traces of programs that run long, die, or are read while they run; what the trace keeps.
final class LifecycleTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws { dir = try Harness.tempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Works, announces itself through a file, then waits to be signalled.
    static let waiting = """
    import time
    for i in range(3000):
        marker = f"beat-{i}"
    open("ready", "w").close()
    time.sleep(60)

    """

    func start(_ executable: String, _ args: [String]) throws -> Process {
        try Harness.startUntilReady(executable, args, in: dir)
    }

    func testSearchWhileRunningThenAfterSIGKILL() throws {
        try Harness.write(Self.waiting, to: "w.py", in: dir)
        let p = try start(Harness.pode, ["record", "-o", "t", "w.py"])
        defer { if p.isRunning { p.terminate() } }
        usleep(200_000)  // the writer persists within 20 ms
        let live = try Harness.pode(["search", "--trace", "t", "--first", "value:\"beat-2999\""], in: dir)
        XCTAssertEqual(live.status, 0, "readable while the program runs: \(live.stderr)")
        XCTAssertTrue(live.stdout.contains("marker = 'beat-2999'"), live.stdout)
        let busy = try Harness.pode(["record", "-o", "t", "w.py"], in: dir)
        XCTAssertEqual(busy.status, 2)
        XCTAssertTrue(busy.stderr.contains("another pode process is writing it"), busy.stderr)

        kill(p.processIdentifier, SIGKILL)
        Harness.waitForExit(p)
        let after = try Harness.pode(["search", "--trace", "t", "--count", "var:marker"], in: dir)
        XCTAssertEqual(after.stdout, "3000\n", "every event before the kill is kept")
        let ls = try Harness.pode(["ls", "--root", "."], in: dir)
        XCTAssertTrue(ls.stdout.contains("killed"), ls.stdout)
    }

    func testCtrlCEndsTheProgramAsPythonWould() throws {
        try Harness.write(Self.waiting, to: "w.py", in: dir)
        let plain = try start(Harness.python, ["w.py"])
        kill(plain.processIdentifier, SIGINT)
        Harness.waitForExit(plain)
        let recorded = try start(Harness.pode, ["record", "-o", "t", "w.py"])
        kill(recorded.processIdentifier, SIGINT)
        Harness.waitForExit(recorded)
        XCTAssertEqual(recorded.terminationReason, plain.terminationReason)
        XCTAssertEqual(recorded.terminationStatus, plain.terminationStatus)
        XCTAssertEqual(try Harness.pode(["search", "--trace", "t", "--count", "kind:exception type:KeyboardInterrupt"], in: dir).stdout, "1\n")
    }

    func testSourcesAreKeptAsTheyWereWhenRecorded() throws {
        try Harness.write("x = 'original-source'\n", to: "s.py", in: dir)
        XCTAssertEqual(try Harness.pode(["record", "-o", "t", "s.py"], in: dir).status, 0)
        try Harness.write("x = 'edited later'\n", to: "s.py", in: dir)
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/t/trace.json"))) as? [String: Any]
        let sources = meta?["sources"] as? [String: String] ?? [:]
        let kept = try sources.first { $0.key.hasSuffix("/s.py") }.map { try String(contentsOfFile: dir + "/t/sources/" + $0.value, encoding: .utf8) }
        XCTAssertEqual(kept, "x = 'original-source'\n")
    }

    func testNewerFormatsAndDamagedTracesAreRefusedClearly() throws {
        try Harness.write("x = 1\n", to: "s.py", in: dir)
        XCTAssertEqual(try Harness.pode(["record", "-o", "t", "s.py"], in: dir).status, 0)
        let log = try FileHandle(forUpdating: URL(fileURLWithPath: dir + "/t/events.log"))
        try log.seek(toOffset: 8)
        log.write(Data([99, 0, 0, 0]))
        try log.close()
        let r = try Harness.pode(["search", "--trace", "t", "x"], in: dir)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("newer pode"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1)
    }
}
