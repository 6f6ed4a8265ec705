import Foundation
import XCTest

/// Runs real programs: the built `pode` and Debian's python3.11, in a temporary directory.
struct Run {
    let stdout: String
    let stderr: String
    let status: Int32
}

enum Harness {
    static let python = "/usr/bin/python3.11"

    /// The `pode` executable that `swift build` put beside the test bundle.
    static var pode: String {
        var dir = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("pode").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        for b in Bundle.allBundles {
            let candidate = b.bundleURL.deletingLastPathComponent().appendingPathComponent("pode").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return ".build/debug/pode"
    }

    static func tempDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "pode-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return (dir as NSString).resolvingSymlinksInPath
    }

    @discardableResult
    static func run(_ executable: String, _ args: [String], in dir: String, stdin: String? = nil, timeout: Double = 300) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        p.environment = env
        // Output goes to files, so a chatty program can never block on a full pipe.
        let base = NSTemporaryDirectory() + "pode-run-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        let input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        let exited = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in exited.signal() }
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // A hang is a failure to report, not a test run that never ends.
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            killTree(p.processIdentifier)
            p.waitUntilExit()
            try out.close()
            try err.close()
            return Run(stdout: "", stderr: "timed out after \(Int(timeout)) s: \(executable) \(args.joined(separator: " "))", status: -1)
        }
        p.waitUntilExit()
        try out.close()
        try err.close()
        let outData = try Data(contentsOf: URL(fileURLWithPath: base + ".out"))
        let errData = try Data(contentsOf: URL(fileURLWithPath: base + ".err"))
        return Run(stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self),
                   status: p.terminationStatus)
    }

    static func pode(_ args: [String], in dir: String, stdin: String? = nil) throws -> Run {
        try run(pode, args, in: dir, stdin: stdin)
    }

    /// Records `program`, saved as `name`, into trace `t` of a new temporary directory, and
    /// returns the directory.
    static func record(_ program: String, as name: String) throws -> String {
        let dir = try tempDirectory()
        try write(program, to: name, in: dir)
        let rec = try pode(["record", "-o", "t", name], in: dir)
        XCTAssertEqual(rec.status, 0, rec.stderr)
        return dir
    }

    /// The directory of one recording that a test class's tests share (recording is the slow
    /// part), made by the first test that asks.
    static func sharedRecording(_ cache: inout String?, _ program: String, as name: String) throws -> String {
        if let d = cache, FileManager.default.fileExists(atPath: d) { return d }
        let dir = try record(program, as: name)
        cache = dir
        return dir
    }

    /// Runs `program` (saved as p.py) with python3.11 and under `pode record OPTIONS p.py ARGS`,
    /// and asserts the same stdout, stderr and exit status. The script is written again before
    /// the recorded run, as a program may delete itself.
    static func assertBehavesAsPython(_ program: String, podeOptions: [String] = [], args: [String] = [], stdin: String? = nil,
                                      in dir: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try write(program, to: "p.py", in: dir)
        let plain = try run(python, ["p.py"] + args, in: dir, stdin: stdin)
        try write(program, to: "p.py", in: dir)
        let recorded = try pode(["record"] + podeOptions + ["p.py"] + args, in: dir, stdin: stdin)
        XCTAssertEqual(recorded.stdout, plain.stdout, "stdout", file: file, line: line)
        XCTAssertEqual(recorded.stderr, plain.stderr, "stderr", file: file, line: line)
        XCTAssertEqual(recorded.status, plain.status, "exit status", file: file, line: line)
    }

    /// Starts a program that announces itself by creating the file `ready` in `dir` (removed
    /// first), and returns once it has.
    static func startUntilReady(_ executable: String, _ args: [String], in dir: String,
                                file: StaticString = #filePath, line: UInt = #line) throws -> Process {
        try? FileManager.default.removeItem(atPath: dir + "/ready")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: dir + "/ready") && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/ready"), "the program never got ready", file: file, line: line)
        return p
    }

    /// Waits for `p` to end, at most `timeout` seconds; past that it is killed and the test
    /// fails (a hang is a failure to report, not a test run that never ends).
    static func waitForExit(_ p: Process, timeout: Double = 120, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        guard p.isRunning else { return p.waitUntilExit() }
        XCTFail("still running after \(Int(timeout)) s, killed: \(p.executableURL?.path ?? "?") \((p.arguments ?? []).joined(separator: " "))",
                file: file, line: line)
        killTree(p.processIdentifier)
        p.waitUntilExit()
    }

    /// Kills `pid` and every process under it, children first. Foundation notices that a
    /// process ended when a socket the process inherited closes: a forked child still holding
    /// it would keep waitUntilExit waiting for ever after its parent is killed.
    static func killTree(_ pid: pid_t) {
        var children: [pid_t: [pid_t]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After "pid (name) state ": the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { children[parent, default: []].append(child) }
        }
        func kill(tree: pid_t) {
            for child in children[tree] ?? [] { kill(tree: child) }
            Foundation.kill(tree, SIGKILL)
        }
        kill(tree: pid)
    }

    static func write(_ text: String, to name: String, in dir: String) throws {
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
    }

    /// The JSON objects of a --json run, by type.
    static func jsonLines(_ text: String, type: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { line in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  obj["type"] as? String == type else { return nil }
            return obj["data"] as? [String: Any]
        }
    }
}
