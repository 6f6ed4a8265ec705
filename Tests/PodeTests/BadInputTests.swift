import Foundation
import XCTest

/// Bad input to pode itself: broken scripts, damaged traces, malformed queries. pode says what
/// happened in one line and exits 2 where it cannot go on; it never crashes. The damage and
/// query tests are bounded-time fuzzers: each run tries new random cases (the seed is printed),
/// and every case that ever crashed pode is kept in Tests/fuzz and replayed first.
final class BadInputTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws { dir = try Harness.tempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("fuzz").path

    func testSyntaxErrorsAndUnreadableScriptsAreReportedAsPythonWould() throws {
        try Harness.write("print('never')\ndef broken(:\n    pass\n", to: "bad.py", in: dir)
        let plain = try Harness.run(Harness.python, ["bad.py"], in: dir)
        let recorded = try Harness.pode(["record", "-o", "t", "bad.py"], in: dir)
        XCTAssertEqual(recorded.stdout, plain.stdout)
        XCTAssertEqual(recorded.stderr, plain.stderr, "the same SyntaxError report")
        XCTAssertEqual(recorded.status, plain.status)
        XCTAssertEqual(recorded.status, 1)

        try Harness.write("x = 1\n", to: "secret.py", in: dir)
        chmod(dir + "/secret.py", 0)
        defer { chmod(dir + "/secret.py", 0o600) }
        if getuid() != 0 {  // root reads any file
            let r = try Harness.pode(["record", "secret.py"], in: dir)
            XCTAssertEqual(r.status, 2)
            XCTAssertTrue(r.stderr.hasPrefix("pode: cannot record secret.py: the file is not readable"), r.stderr)
        }
        let dirScript = try Harness.pode(["record", "-o", "d", "."], in: dir)
        let plainDir = try Harness.run(Harness.python, ["."], in: dir)
        XCTAssertEqual(dirScript.status, plainDir.status, "a directory without __main__.py, as python3 says")
        XCTAssertEqual(dirScript.stderr, plainDir.stderr)
    }

    /// A program that fills the disk while it is recorded: it runs on as it would unrecorded,
    /// pode says so in one line, and the trace keeps every event up to the last whole frame
    /// (no gaps), says why it stopped, and opens cleanly. Needs root for a small tmpfs.
    func testAFullDiskStopsRecordingButNeverTheProgram() throws {
        let mountPoint = dir + "/small"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try Harness.run("/bin/mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mountPoint], in: dir)
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a small tmpfs here (\(mounted.stderr)); run the tests as root") }
        defer { _ = try? Harness.run("/bin/umount", ["-l", mountPoint], in: dir) }
        try Harness.write("""
        import sys
        total = 0
        for i in range(600000):
            word = f"word-{i}"
            total += len(word)
        print(total)
        sys.stderr.write("the program's own stderr\\n")
        sys.exit(3)
        """, to: "fill.py", in: dir)
        let plain = try Harness.run(Harness.python, ["fill.py"], in: dir)
        let recorded = try Harness.pode(["record", "-o", mountPoint + "/t", "fill.py"], in: dir)
        XCTAssertEqual(recorded.stdout, plain.stdout)
        XCTAssertEqual(recorded.status, plain.status)
        XCTAssertEqual(recorded.status, 3)
        let podeLines = recorded.stderr.split(separator: "\n").filter { $0.hasPrefix("pode: ") }
        XCTAssertEqual(podeLines.count, 1, recorded.stderr)
        XCTAssertTrue(podeLines.first?.contains("No space left on device") ?? false, recorded.stderr)
        XCTAssertEqual(recorded.stderr.split(separator: "\n").filter { !$0.hasPrefix("pode: ") }.joined(separator: "\n") + "\n", plain.stderr)

        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: mountPoint + "/t/trace.json"))) as! [String: Any]
        XCTAssertEqual(meta["state"] as? String, "complete")
        XCTAssertEqual(meta["exitStatus"] as? Int, 3)
        XCTAssertTrue((meta["recordingStopped"] as? String ?? "").contains("No space left"), "\(meta)")
        let events = try XCTUnwrap(meta["events"] as? Int)
        XCTAssertGreaterThan(events, 1000, "what was written before the disk filled is kept")
        XCTAssertLessThan(events, 1_800_000, "the disk did fill")
        // Every event from #1 to the last one, no gap, searchable through the index and the log.
        let count = try Harness.pode(["search", "--trace", mountPoint + "/t", "--count", "seq:1.."], in: dir)
        XCTAssertEqual(count.stdout, "\(events)\n", count.stderr)
        let last = try Harness.pode(["search", "--trace", mountPoint + "/t", "--last", "--json", "seq:1.."], in: dir)
        XCTAssertEqual(Harness.jsonLines(last.stdout, type: "match").first?["seq"] as? Int, events)
        let first = try Harness.pode(["search", "--trace", mountPoint + "/t", "--first", "value:\"word-7\""], in: dir)
        XCTAssertEqual(first.status, 0, first.stderr)
        let list = try Harness.pode(["ls", "--root", mountPoint], in: dir)
        XCTAssertTrue(list.stdout.contains("\(events)*") && list.stdout.contains("recording stopped before the program ended"), list.stdout)
    }

    /// Checks one pode run on bad input: a status of 0, 1 or 2, never a crash, and a one-line
    /// message starting "pode: " when it gives up.
    func assertCalm(_ r: Run, _ what: String, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let calm = [0, 1, 2].contains(r.status) && (r.status != 2 || (r.stderr.hasPrefix("pode: ") && r.stderr.split(separator: "\n").count == 1))
        XCTAssertTrue(calm, "\(what): status \(r.status), stderr \(r.stderr.prefix(600))", file: file, line: line)
        return calm
    }

    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
    }

    /// How long each fuzzer runs: `seconds` by default, PODE_FUZZ_SECONDS for a longer hunt.
    static func budget(_ seconds: Double) -> Date {
        let s = ProcessInfo.processInfo.environment["PODE_FUZZ_SECONDS"].flatMap(Double.init) ?? seconds
        return Date().addingTimeInterval(s)
    }

    static func seed() -> UInt64 {
        if let s = ProcessInfo.processInfo.environment["PODE_FUZZ_SEED"], let v = UInt64(s) { return v }
        return UInt64(Date().timeIntervalSince1970 * 1000)
    }

    /// One damaged copy of a trace: `file` cut to `cut` bytes, or with the bytes at `flips` xored.
    struct Damage: Codable {
        var file: String
        var cut: Int?
        var flips: [Int]
    }

    func apply(_ damage: Damage, from original: String, to copy: String) throws {
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: original, toPath: copy)
        let path = copy + "/" + damage.file
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        if let cut = damage.cut { data = data.prefix(min(cut, data.count)) }
        for at in damage.flips where at < data.count { data[at] ^= 0x5A }
        try data.write(to: URL(fileURLWithPath: path))
    }

    func readEverything(_ trace: String, _ what: String) throws -> Bool {
        for args in [["search", "--count", "seq:1.."], ["search", "--facets", "value:word-7"], ["show", "9"],
                     ["history", "total"], ["calls"], ["grep", "-c", "word"], ["ls", "--root", "."]] {
            var a = args
            if a[0] != "ls" { a.insert(contentsOf: ["--trace", trace], at: 1) }
            if !assertCalm(try Harness.pode(a, in: dir), "\(what): pode \(a.joined(separator: " "))") { return false }
        }
        return true
    }

    func testDamagedTracesAreRefusedOrReadButNeverCrashPode() throws {
        try Harness.write("""
        total = 0
        for i in range(400):
            word = f"word-{i % 13}"
            total += len(word)
        print(total)
        """, to: "p.py", in: dir)
        XCTAssertEqual(try Harness.pode(["record", "-o", "good", "p.py"], in: dir).status, 0)
        let files = try FileManager.default.subpathsOfDirectory(atPath: dir + "/good").filter {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: dir + "/good/" + $0, isDirectory: &isDir) && !isDir.boolValue && !$0.hasSuffix(".lock")
        }.sorted()
        XCTAssertTrue(files.contains("events.log") && files.contains("trace.json"), "\(files)")

        // Kept crashers first, then new random damage for a bounded time.
        let kept = (try? FileManager.default.contentsOfDirectory(atPath: Self.fuzzDirectory + "/traces")) ?? []
        for name in kept.sorted() where name.hasSuffix(".json") {
            let damage = try JSONDecoder().decode(Damage.self, from: Data(contentsOf: URL(fileURLWithPath: Self.fuzzDirectory + "/traces/" + name)))
            try apply(damage, from: dir + "/good", to: dir + "/bad")
            _ = try readEverything("bad", "kept case \(name)")
        }
        let seed = Self.seed()
        var rng = Generator(state: seed)
        let deadline = Self.budget(20)
        var cases = 0
        while Date() < deadline {
            let file = files.randomElement(using: &rng)!
            let size = (try FileManager.default.attributesOfItem(atPath: dir + "/good/" + file)[.size] as? Int) ?? 0
            guard size > 0 else { continue }
            let cut = Bool.random(using: &rng) ? Int.random(in: 0..<size, using: &rng) : nil
            let flips = (0..<Int.random(in: 0...4, using: &rng)).map { _ in Int.random(in: 0..<size, using: &rng) }
            let damage = Damage(file: file, cut: cut, flips: flips)
            try apply(damage, from: dir + "/good", to: dir + "/bad")
            cases += 1
            let what = "seed \(seed), damage \(String(decoding: try JSONEncoder().encode(damage), as: UTF8.self))"
            if !(try readEverything("bad", what)) { break }
        }
        print("damaged traces: \(cases) cases, seed \(seed)")
        XCTAssertGreaterThan(cases, 5)
    }

    static let queryPieces = ["word", "word-7", "\"word-7\"", "var:", "var:word", "func:", "file:", "kind:line", "kind:",
                              "type:str", "thread:0", "seq:", "seq:1..", "seq:..5", "seq:5..1", "seq:x..y", "value:",
                              "AND", "OR", "NOT", "-", "+", "(", ")", "\"", "'", "*", "?", ":", "..", "\\", "é",
                              "\u{1F600}", "\u{D7FF}", "colour:red", "total", "NEAR", "ADJ", "~", "/", "^", "$",
                              "[", "]", "{", "}", "1e309", "-1", "999999999999999999999", "func:<module>", "line:3",
                              "line:x", "pid:", "pid:1", "var:\"", String(repeating: "a", count: 300)]

    func testMalformedQueriesGetOneLineAndNeverCrashPode() throws {
        try Harness.write("word = 'word-7'\ntotal = len(word)\n", to: "p.py", in: dir)
        XCTAssertEqual(try Harness.pode(["record", "-o", "t", "p.py"], in: dir).status, 0)
        let kept = ((try? String(contentsOfFile: Self.fuzzDirectory + "/queries.txt", encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
        for q in kept { _ = assertCalm(try Harness.pode(["search", "--trace", "t", "--", q], in: dir), "kept query \(q)") }
        let seed = Self.seed()
        var rng = Generator(state: seed)
        let deadline = Self.budget(15)
        var cases = 0
        while Date() < deadline {
            let n = Int.random(in: 1...6, using: &rng)
            let q = (0..<n).map { _ in Self.queryPieces.randomElement(using: &rng)! }
                .joined(separator: Bool.random(using: &rng) ? " " : "")
            let command = [["search"], ["search", "--facets"], ["search", "--first"], ["grep"], ["history"]].randomElement(using: &rng)!
            cases += 1
            // After "--", as a query or pattern that starts with "-" must be given.
            if !assertCalm(try Harness.pode(command + ["--trace", "t", "--", q], in: dir), "seed \(seed): pode \(command.joined(separator: " ")) -- \(q)") { break }
        }
        print("malformed queries: \(cases) cases, seed \(seed)")
        XCTAssertGreaterThan(cases, 5)
    }
}
