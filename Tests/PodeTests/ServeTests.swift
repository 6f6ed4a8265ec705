import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PodeLog
import PodeServe
import XCTest

/// The info browser: its API on a real recording, in process and over loopback, and the page
/// in headless Chromium.
final class ServeTests: XCTestCase {
    static let program = """
    import threading

    def step(i, acc):
        label = 'needle-%d' % i if i % 50 == 0 else 'hay-%d' % i
        acc.append(label)
        return len(acc)

    def fail(x):
        raise ValueError('bad-%d' % x)

    def main():
        acc = []
        for i in range(1500):
            step(i, acc)
        try:
            fail(7)
        except ValueError:
            pass
        t = threading.Thread(target=step, args=(9999, []))
        t.start()
        t.join()
        return len(acc)

    main()

    """

    nonisolated(unsafe) static var recorded: String?
    var dir: String!

    override func setUpWithError() throws {
        dir = try Harness.sharedRecording(&Self.recorded, Self.program, as: "serve_me.py")
    }

    override class func tearDown() {
        if let d = recorded { try? FileManager.default.removeItem(atPath: d) }
        recorded = nil
    }

    func api() throws -> TraceAPI { try TraceAPI(id: "t", trace: TraceDirectory(path: dir + "/t")) }

    /// The event numbers `pode search` prints for `query`.
    func cliSeqs(_ query: String) throws -> [Int] {
        let r = try Harness.pode(["search", "--trace", "t", "--json", query], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        return Harness.jsonLines(r.stdout, type: "match").compactMap { $0["seq"] as? Int }
    }

    func seqs(_ page: [String: Any], _ key: String = "hits") -> [Int] {
        (page[key] as? [[String: Any]] ?? []).compactMap { ($0["seq"] as? UInt64).map(Int.init) ?? $0["seq"] as? Int }
    }

    func int(_ v: Any?) -> Int? { (v as? UInt64).map(Int.init) ?? (v as? Int) ?? (v as? UInt32).map(Int.init) }

    func testSearchPagesForwardAndBackCoverEveryHitOnce() throws {
        let api = try api()
        let query = "var:label needle"
        let expected = try cliSeqs(query)
        XCTAssertEqual(expected.count, 30)  // i = 0, 50, ..., 1450
        var forward: [Int] = []
        var after: UInt64?
        var pages = 0
        repeat {
            let page = try api.search(query, after: after, before: nil, limit: 7)
            forward += seqs(page)
            XCTAssertEqual(page["more_before"] as? Bool, after != nil)
            after = forward.last.map(UInt64.init)
            pages += 1
            if page["more_after"] as? Bool != true { break }
        } while pages < 100
        XCTAssertTrue(forward == expected, "forward pages: \(forward.count) hits, \(expected.count) expected")
        XCTAssertEqual(pages, 5)

        var backward: [Int] = []
        var before = UInt64.max
        repeat {
            let page = try api.search(query, after: nil, before: before, limit: 9)
            backward = seqs(page) + backward
            before = UInt64(try XCTUnwrap(seqs(page).first))
            if page["more_before"] as? Bool != true { break }
        } while backward.count < 1000
        XCTAssertTrue(backward == expected, "backward pages: \(backward.count) hits, \(expected.count) expected")
    }

    func testOutOfTimePagesGoOnWhereTheyStoppedAndSkipNothing() throws {
        let api = try api()
        api.budget = 0  // one block an answer
        let query = "hay kind:line"
        let expected = try cliSeqs(query)
        var found: [Int] = []
        var after: UInt64?
        var partial = 0
        for _ in 0..<1000 {
            let page = try api.search(query, after: after, before: nil, limit: 500)
            found += seqs(page)
            if page["partial"] as? Bool == true { partial += 1 }
            guard page["more_after"] as? Bool == true, let next = page["next_after"] as? UInt64 else { break }
            after = next
        }
        XCTAssertGreaterThan(partial, 0, "a page ran out of time")
        XCTAssertTrue(found == expected, "\(found.count) hits paged, \(expected.count) expected")

        var back: [Int] = []
        var before = UInt64.max
        for _ in 0..<1000 {
            let page = try api.search(query, after: nil, before: before, limit: 500)
            back = seqs(page) + back
            guard page["more_before"] as? Bool == true, let next = page["next_before"] as? UInt64 else { break }
            before = next
        }
        XCTAssertTrue(back == expected, "\(back.count) hits paged back, \(expected.count) expected")

        let facets = try api.facets(query)
        XCTAssertEqual(facets["complete"] as? Bool, false)
        let countedBefore = try XCTUnwrap(facets["counted_before"] as? UInt64)
        XCTAssertEqual(int(facets["total"]), expected.filter { $0 < Int(countedBefore) }.count)
    }

    func testFacetsAndTimelineCountEveryHit() throws {
        let api = try api()
        let query = "hay kind:line"
        let expected = try cliSeqs(query)
        let facets = try api.facets(query)
        XCTAssertEqual(int(facets["total"]), expected.count)
        let byVar = (facets["facets"] as? [String: [String: Int]])?["var"]
        XCTAssertEqual(byVar?["label"], 1471)  // 1470 in the loop, and the thread's hay-9999
        XCTAssertNotNil(byVar?["acc"])
        let byProcess = (facets["facets"] as? [String: [String: Int]])?["process"]
        XCTAssertEqual(byProcess?.count, 1)
        XCTAssertEqual(byProcess?.values.first, expected.count)

        // Wide buckets take whole blocks from their summaries; narrow ones read the events.
        for n in [3, 40] {
            let timeline = try api.timeline(query, buckets: n)
            let buckets = try XCTUnwrap(timeline["buckets"] as? [[String: Any]])
            XCTAssertEqual(buckets.count, n)
            let starts = buckets.compactMap { int($0["from"]) }
            XCTAssertEqual(starts.first, int(timeline["first_seq"]))
            XCTAssertEqual(starts, starts.sorted())
            // Each hit in the bucket its event number falls in, exactly.
            var want = [Int](repeating: 0, count: n)
            for s in expected { want[try XCTUnwrap(starts.lastIndex { $0 <= s })] += 1 }
            XCTAssertEqual(buckets.map { int($0["hits"]) ?? -1 }, want, "\(n) buckets")
        }
    }

    func testMomentAndEveryMove() throws {
        let api = try api()
        let hit = try XCTUnwrap(try cliSeqs("var:label value:\"needle-50\"").first)
        let m = try api.moment(seq: UInt64(hit), frame: 0)
        let stack = try XCTUnwrap(m["stack"] as? [[String: Any]])
        XCTAssertEqual(stack.map { $0["function"] as? String }, ["<module>", "main", "step"])
        let locals = (stack.last?["locals"] as? [[String: Any]] ?? []).map { "\($0["name"]!)=\($0["value"]!)" }
        XCTAssertEqual(Array(locals.prefix(1)), ["i=50"])
        XCTAssertTrue(locals.contains("label='needle-50'"), "\(locals)")
        let source = try XCTUnwrap(m["source"] as? [[String: Any]])
        XCTAssertEqual(source.count, Self.program.split(separator: "\n", omittingEmptySubsequences: false).count - 1)
        XCTAssertEqual(source.filter { $0["current"] as? Bool == true }.count, 1)
        // The locals of an outer frame when it is selected.
        let outer = try api.moment(seq: UInt64(hit), frame: 1)
        XCTAssertEqual(int(outer["selected_frame"]), 1)
        let mainLocals = ((outer["stack"] as? [[String: Any]])?[1]["locals"] as? [[String: Any]] ?? []).map { $0["name"] as? String }
        XCTAssertEqual(mainLocals, ["acc", "i"])

        func move(_ how: String, from seq: Int, frame: Int = 0, q: String? = nil) throws -> Int {
            try XCTUnwrap(int(try api.step(from: UInt64(seq), move: how, frame: frame, query: q)["seq"]), how)
        }
        XCTAssertEqual(try move("back", from: hit), hit - 1)
        XCTAssertEqual(try move("step", from: hit), hit + 1)
        let ret = try move("out", from: hit)
        XCTAssertEqual(try XCTUnwrap(api.event(seq: UInt64(ret)))["kind"] as? String, "return")
        let call = try move("rout", from: hit)
        XCTAssertEqual(try api.event(seq: UInt64(call))["kind"] as? String, "call")
        XCTAssertEqual(try api.event(seq: UInt64(call))["frame"] as? UInt64, try api.event(seq: UInt64(hit))["frame"] as? UInt64)
        // Over the calls of main: from inside step, the next event of main's frame (frame 1).
        let over = try move("next", from: hit, frame: 1)
        XCTAssertGreaterThan(over, ret)
        XCTAssertEqual(try api.event(seq: UInt64(over))["function"] as? String, "main")
        let hits = try cliSeqs("var:label needle")
        let i = try XCTUnwrap(hits.firstIndex(of: hit))
        XCTAssertEqual(try move("hit", from: hit, q: "var:label needle"), hits[i + 1])
        XCTAssertEqual(try move("rhit", from: hit, q: "var:label needle"), hits[i - 1])
        XCTAssertEqual(try move("first", from: hit), 1)
        // Out of main, whose return is found by bisection: where `pode calls` says main ended.
        let calls = try Harness.pode(["calls", "--trace", "t", "--json", "main"], in: dir)
        let mainEnd = try XCTUnwrap(Harness.jsonLines(calls.stdout, type: "call").first?["end"] as? Int)
        XCTAssertEqual(try move("out", from: hit, frame: 1), mainEnd)
    }

    func testHistoryComesInPages() throws {
        let api = try api()
        let page = try api.history(of: "label", frame: nil, after: nil, limit: 100)
        let changes = try XCTUnwrap(page["changes"] as? [[String: Any]])
        XCTAssertEqual(changes.count, 100)
        XCTAssertEqual(page["more_after"] as? Bool, true)
        let values = changes.compactMap { ($0["values"] as? [[String: Any]])?.first { $0["matched"] as? Bool == true }?["value"] as? String }
        XCTAssertEqual(Array(values.prefix(3)), ["'needle-0'", "'hay-1'", "'hay-2'"])
        let next = try api.history(of: "label", frame: nil, after: UInt64(try XCTUnwrap(seqs(page, "changes").last)), limit: 100)
        XCTAssertEqual(((next["changes"] as? [[String: Any]])?.first?["values"] as? [[String: Any]])?.first?["value"] as? String, "'needle-100'")
        // One frame's changes only.
        let frame = try XCTUnwrap((changes[5]["frame"] as? UInt64))
        let one = try api.history(of: "label", frame: frame, after: nil, limit: 100)
        XCTAssertEqual((one["changes"] as? [[String: Any]])?.count, 1)
    }

    func testCallTreeUnfoldsOneLevelAtATime() throws {
        let api = try api()
        let roots = try XCTUnwrap(try api.calls(under: nil, after: nil, limit: 50)["calls"] as? [[String: Any]])
        XCTAssertEqual(roots.first?["function"] as? String, "<module>")
        XCTAssertTrue(roots.contains { $0["thread"] as? UInt32 == 1 || int($0["thread"]) == 1 }, "the thread's own outermost call")
        let module = try XCTUnwrap(int(roots.first?["frame"]))
        let top = try XCTUnwrap(try api.calls(under: UInt64(module), after: nil, limit: 50)["calls"] as? [[String: Any]])
        let main = try XCTUnwrap(top.first { $0["function"] as? String == "main" })
        let cli = try Harness.pode(["calls", "--trace", "t", "--json", "main"], in: dir)
        XCTAssertEqual(int(main["end"]), Harness.jsonLines(cli.stdout, type: "call").first?["end"] as? Int)
        XCTAssertEqual((main["returned"] as? [String: Any])?["value"] as? String, "1500")

        var steps = 0, failed: [String: Any]?
        var after: UInt64?
        var pages = 0
        while pages < 100 {
            let page = try api.calls(under: UInt64(try XCTUnwrap(int(main["frame"]))), after: after, limit: 200)
            let calls = try XCTUnwrap(page["calls"] as? [[String: Any]])
            for c in calls {
                XCTAssertEqual(int(c["depth"]), 2, "only main's own calls")
                if c["function"] as? String == "step" { steps += 1 }
                if c["function"] as? String == "fail" { failed = c }
            }
            pages += 1
            guard page["more_after"] as? Bool == true, let last = calls.last else { break }
            after = UInt64(try XCTUnwrap(int(last["end"])))
        }
        XCTAssertEqual(steps, 1500)
        XCTAssertEqual((failed?["raised"] as? [String: Any])?["value"] as? String, "ValueError('bad-7')")
        XCTAssertEqual((failed?["args"] as? [[String: Any]])?.first?["value"] as? String, "7")
    }

    /// A forked child's part is a trace of its own in the picker (TRACE@PID), with its pid as
    /// its process facet; the default stays the first process.
    func testForkedProcessesAreTracesOfTheirOwn() throws {
        let forked = try Harness.record("""
        import os
        pid = os.fork()
        where = "in-child" if pid == 0 else "in-parent"
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        """, as: "forks.py")
        defer { try? FileManager.default.removeItem(atPath: forked) }
        let library = TraceLibrary(only: TraceDirectory(path: forked + "/t"))
        let ids = library.traces().map(\.id)
        XCTAssertEqual(ids.count, 2, "\(ids)")
        XCTAssertEqual(ids.first, "t")
        let childID = try XCTUnwrap(ids.last)
        XCTAssertTrue(childID.hasPrefix("t@"), childID)
        let childPid = String(childID.dropFirst(2))
        let facets = try library.with(childID) { try $0.facets("value:in-child") }
        XCTAssertEqual(facets["total"] as? Int, 1)
        XCTAssertEqual((facets["facets"] as? [String: [String: Int]])?["process"], [childPid: 1])
        XCTAssertEqual(try library.with(nil) { try $0.facets("value:in-child") }["total"] as? Int, 0, "the default is the first process")
        XCTAssertEqual(try library.with(nil) { try $0.facets("value:in-parent") }["total"] as? Int, 1)
    }

    func testBadRequestsGetClearErrors() throws {
        let api = try api()
        func status(_ body: () throws -> Any) -> (Int, String)? {
            do { _ = try body(); return nil } catch let e as APIError { return (e.status, e.message) } catch { return (0, "\(error)") }
        }
        XCTAssertEqual(status { try api.search("foo:bar", after: nil, before: nil, limit: 5) }?.0, 400)
        XCTAssertEqual(status { try api.facets("\"unclosed") }.map { $0.0 } ?? 400, 400)
        let missing = status { try api.moment(seq: 99_999_999, frame: 0) }
        XCTAssertEqual(missing?.0, 404)
        XCTAssertTrue(missing?.1.contains("no event #99999999") == true, missing?.1 ?? "")
        XCTAssertEqual(status { try api.step(from: 5, move: "sideways", frame: 0, query: nil) }?.0, 400)
        XCTAssertEqual(status { try api.step(from: 5, move: "hit", frame: 0, query: nil) }?.0, 400)
        XCTAssertEqual(status { try api.step(from: 1, move: "back", frame: 0, query: nil) }?.0, 404)
        XCTAssertEqual(status { try api.calls(under: 3, after: nil, limit: 5) }?.0, 400)
        XCTAssertEqual(status { try api.history(of: "a\"b", frame: nil, after: nil, limit: 5) }?.0, 400)
    }

    // MARK: over loopback

    /// `pode serve` running on a free port, stopped with SIGTERM at the end of the test.
    final class Server {
        let process = Process()
        let base: String
        let output: String
        let errors: String

        init(in dir: String, _ args: [String]) throws {
            output = dir + "/serve-\(UUID().uuidString).out"
            errors = output + ".err"
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            _ = FileManager.default.createFile(atPath: errors, contents: nil)
            process.executableURL = URL(fileURLWithPath: Harness.pode)
            process.arguments = ["serve", "--port", "0"] + args
            process.currentDirectoryURL = URL(fileURLWithPath: dir)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
            try process.run()
            var found: String?
            for _ in 0..<300 where found == nil {
                let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                if let r = text.range(of: #"http://[^ ]+/"#, options: .regularExpression) { found = String(text[r]) }
                if !process.isRunning { break }
                if found == nil { usleep(50_000) }
            }
            guard let found else {
                process.terminate()
                throw XCTSkip("pode serve did not start: \((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")")
            }
            base = found
        }

        var stderr: String { (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "" }

        /// Stops it as Ctrl-C would; its exit status.
        func stop() -> Int32 {
            process.interrupt()
            Harness.waitForExit(process)
            return process.terminationStatus
        }

        func get(_ path: String) throws -> (status: Int, type: String, body: Data) {
            let url = try XCTUnwrap(URL(string: base + path))
            nonisolated(unsafe) var result: (Int, String, Data)?
            let done = DispatchSemaphore(value: 0)
            URLSession.shared.dataTask(with: url) { data, response, _ in
                let http = response as? HTTPURLResponse
                result = (http?.statusCode ?? 0, http?.value(forHTTPHeaderField: "Content-Type") ?? "", data ?? Data())
                done.signal()
            }.resume()
            XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "GET \(path) timed out")
            let r = try XCTUnwrap(result)
            return (r.0, r.1, r.2)
        }

        func json(_ path: String) throws -> (status: Int, object: [String: Any]) {
            let r = try get(path)
            XCTAssertTrue(r.type.hasPrefix("application/json"), "\(path): \(r.type)")
            return (r.status, try XCTUnwrap(try JSONSerialization.jsonObject(with: r.body) as? [String: Any]))
        }
    }

    func testServerAnswersOverLoopbackAndKeepsServingAfterBadRequests() throws {
        let server = try Server(in: dir, ["--trace", "t"])
        XCTAssertTrue(server.base.hasPrefix("http://127.0.0.1:"), server.base)
        let page = try server.get("")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.type.hasPrefix("text/html"))
        XCTAssertTrue(String(decoding: page.body, as: UTF8.self).contains("/app.js"))
        XCTAssertEqual(try server.get("app.js").status, 200)
        XCTAssertEqual(try server.get("app.css").type, "text/css; charset=utf-8")

        // A form-encoded query: + is a space.
        let found = try server.json("api/search?q=needle+kind:line&limit=3")
        XCTAssertEqual(found.status, 200)
        XCTAssertEqual(seqs(found.object).count, 3)
        XCTAssertEqual(found.object["query"] as? String, "needle kind:line")

        for (path, status, words) in [("api/search?q=foo%3Abar", 400, "unknown field"), ("api/search", 400, "the query is empty"),
                                      ("api/moment/99999999", 404, "no event"), ("api/moment/abc", 400, "not an event number"),
                                      ("api/search?q=x&limit=100000", 400, "out of range"), ("api/nothing/here", 404, "no API"),
                                      ("api/trace?trace=other", 404, "this server shows only 't'")] {
            let r = try server.json(path)
            XCTAssertEqual(r.status, status, path)
            let message = ((r.object["error"] as? [String: Any])?["message"] as? String) ?? ""
            XCTAssertTrue(message.contains(words), "\(path): \(message)")
        }
        let info = try server.json("api/trace")
        XCTAssertEqual(info.status, 200)
        XCTAssertEqual(info.object["arguments"] as? [String], ["serve_me.py"])
        XCTAssertEqual(try server.json("api/traces").object["traces"].map { ($0 as? [Any])?.count }, 1)
        XCTAssertEqual(server.stop(), 0, "Ctrl-C ends pode serve cleanly")
    }

    func testServeRefusesAMissingTraceAndWarnsOffLoopback() throws {
        let missing = try Harness.pode(["serve", "--trace", "nope", "--port", "0"], in: dir)
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("there is no trace at nope"), missing.stderr)
        let open = try Server(in: dir, ["--host", "0.0.0.0"])
        XCTAssertTrue(open.stderr.contains("other machines can read every value"), open.stderr)
        // Without --trace it shows the traces under ./.pode, and there are none here.
        let none = try open.json("api/trace")
        XCTAssertEqual(none.status, 404)
        XCTAssertTrue(((none.object["error"] as? [String: Any])?["message"] as? String ?? "").contains("there are no traces in ./.pode"))
        _ = open.stop()
    }

    // MARK: in a browser

    func testBrowserSearchesClicksAHitAndStepsBackTwice() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let artifacts = root + "/.build/test-artifacts"
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        let shot = artifacts + "/info-browser.png"
        try? FileManager.default.removeItem(atPath: shot)
        let server = try Server(in: dir, ["--trace", "t"])
        defer { _ = server.stop() }
        let query = "var:label needle"
        let run = try Harness.run(Harness.python, [root + "/Tests/browser/drive.py", server.base, query, shot], in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        var steps: [String: [String: Any]] = [:]
        for line in run.stdout.split(separator: "\n") {
            if let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let s = o["step"] as? String { steps[s] = o }
        }
        let expected = try cliSeqs(query)
        let searched = try XCTUnwrap(steps["searched"])
        XCTAssertEqual(searched["hits"] as? [Int], expected)
        XCTAssertEqual(searched["hit_count"] as? String, "(\(expected.count))")
        XCTAssertGreaterThan(searched["facets"] as? Int ?? 0, 3)
        XCTAssertGreaterThan(searched["timeline_buckets"] as? Int ?? 0, 1)

        let clicked = try XCTUnwrap(steps["clicked"])
        XCTAssertEqual(clicked["moment"] as? Int, expected[0])
        XCTAssertEqual((clicked["stack"] as? [String])?.count, 3)
        XCTAssertEqual(clicked["locals"] as? [String], ["i", "acc", "label"])
        XCTAssertTrue((clicked["url"] as? String ?? "").contains("at=\(expected[0])"), "\(clicked["url"] ?? "")")

        // Two steps back in the thread: the two events before the hit, the line before it first.
        let back1 = try XCTUnwrap(steps["back1"]), back2 = try XCTUnwrap(steps["back2"])
        XCTAssertEqual(back1["moment"] as? Int, expected[0] - 1)
        XCTAssertEqual(back2["moment"] as? Int, expected[0] - 2)
        XCTAssertEqual(back2["current_line"] as? Int, 3, "the call of step, at its def line")
        XCTAssertTrue((back2["url"] as? String ?? "").contains("at=\(expected[0] - 2)"))
        XCTAssertEqual(back2["status"] as? String, "")
        let calls = try XCTUnwrap(steps["calls"])
        XCTAssertEqual(calls["unfolded"] as? [String], ["main"], "the module's own calls")
        XCTAssertTrue((calls["url"] as? String ?? "").contains("tab=calls"))
        let png = try Data(contentsOf: URL(fileURLWithPath: shot))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG screenshot at \(shot)")
        XCTAssertGreaterThan(png.count, 20_000)
    }
}
