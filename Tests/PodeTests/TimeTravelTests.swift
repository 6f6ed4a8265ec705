import Foundation
import XCTest

/// show, history, calls, replay and grep on real recordings.
final class TimeTravelTests: XCTestCase {
    static let program = """
    import threading

    def fact(n):
        if n <= 1:
            marker = 'base-%d' % n
            return 1
        sub = fact(n - 1)
        return n * sub

    def worker(tag, count):
        acc = []
        for i in range(count):
            acc.append(tag + str(i))
        return len(acc)

    def counter(limit):
        total = 0
        for i in range(limit):
            total += i
            yield total

    def explode(depth):
        if depth == 0:
            raise KeyError('deep-key')
        return explode(depth - 1)

    def make_adder(base):
        offset = base * 10
        def add(x):
            result = x + offset
            return result
        return add

    def rebind_and_mutate():
        items = [1]
        items.append(2)
        items = [3]
        return items

    fact(4)
    threads = [threading.Thread(target=worker, args=(name, 3)) for name in ('alpha', 'beta')]
    for t in threads: t.start()
    for t in threads: t.join()
    gen = counter(4)
    first = next(gen)
    second = next(gen)
    rest = list(gen)
    try:
        explode(2)
    except KeyError:
        pass
    adder = make_adder(4)
    answer = adder(2)
    rebind_and_mutate()

    """

    nonisolated(unsafe) static var recorded: String?
    var dir: String!

    override func setUpWithError() throws {
        dir = try Harness.sharedRecording(&Self.recorded, Self.program, as: "tt.py")
    }

    override class func tearDown() {
        if let d = recorded { try? FileManager.default.removeItem(atPath: d) }
        recorded = nil
    }

    func pode(_ args: [String], stdin: String? = nil) throws -> Run {
        try Harness.pode(Array(args.prefix(1)) + ["--trace", "t"] + args.dropFirst(), in: dir, stdin: stdin)
    }

    func json(_ args: [String], type: String) throws -> [[String: Any]] {
        let r = try pode(args + ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return Harness.jsonLines(r.stdout, type: type)
    }

    func firstSeq(_ query: String) throws -> Int {
        let hits = try json(["search", "--first", query], type: "match")
        return try XCTUnwrap(hits.first?["seq"] as? Int, "no hit for \(query)")
    }

    /// name=value pairs of a JSON value list.
    func pairs(_ values: Any?) -> [String] {
        (values as? [[String: Any]] ?? []).map { "\($0["name"]!)=\($0["value"]!)" }
    }

    func testShowGivesEachRecursiveActivationItsOwnLocals() throws {
        let moment = try XCTUnwrap(try json(["show", "--first", "var:marker", "--all-frames"], type: "moment").first)
        let stack = try XCTUnwrap(moment["stack"] as? [[String: Any]])
        XCTAssertEqual(stack.map { $0["function"] as? String }, ["<module>", "fact", "fact", "fact", "fact"])
        XCTAssertEqual(stack.dropFirst().map { pairs($0["args"]) }, [["n=4"], ["n=3"], ["n=2"], ["n=1"]])
        // Each frame's n is its own; sub is not bound yet anywhere, marker only in the innermost.
        XCTAssertEqual(stack.dropFirst().map { pairs($0["locals"]) }, [["n=4"], ["n=3"], ["n=2"], ["n=1", "marker='base-1'"]])
        // The frames' lines: each caller waits on line 7, the innermost is at its return line.
        XCTAssertEqual(stack.dropFirst().map { $0["line"] as? Int }, [7, 7, 7, 6])

        // After fact(2) returned into fact(3): sub is bound there, with the event that set it.
        let seq = try firstSeq("func:fact var:sub value:2")
        let after = try XCTUnwrap(try json(["show", String(seq)], type: "moment").first)
        let inner = try XCTUnwrap((after["stack"] as? [[String: Any]])?.last)
        XCTAssertEqual(pairs(inner["locals"]), ["n=3", "sub=2"])
        XCTAssertEqual((inner["locals"] as? [[String: Any]])?.last?["set_at"] as? Int, seq)
    }

    func testHistoryOfAFrameNeverMixesThreads() throws {
        let changes = try json(["history", "acc"], type: "change")
        let byFrame = Dictionary(grouping: changes) { $0["frame"] as! Int }
        XCTAssertEqual(byFrame.count, 2)
        for (_, list) in byFrame {
            XCTAssertEqual(Set(list.map { $0["thread"] as! Int }).count, 1)
            let values = list.map { pairs($0["values"]).first { $0.hasPrefix("acc=") }! }
            let tag = values.last!.contains("alpha") ? "alpha" : "beta"
            XCTAssertEqual(values, ["acc=[]", "acc=['\(tag)0']", "acc=['\(tag)0', '\(tag)1']", "acc=['\(tag)0', '\(tag)1', '\(tag)2']"])
        }
        // --frame narrows to one of them.
        let one = try XCTUnwrap(byFrame.keys.min())
        XCTAssertEqual(try json(["history", "acc", "--frame", String(one)], type: "change").count, 4)
        XCTAssertEqual(try pode(["history", "no_such_variable"]).status, 1)
    }

    func testGeneratorLocalsSurviveSuspension() throws {
        // The second resume: total and i are what they were when the generator yielded.
        let resumes = try json(["search", "func:counter kind:resume"], type: "match")
        XCTAssertGreaterThanOrEqual(resumes.count, 2)
        let seq = try XCTUnwrap(resumes[0]["seq"] as? Int)
        let moment = try XCTUnwrap(try json(["show", String(seq)], type: "moment").first)
        let stack = try XCTUnwrap(moment["stack"] as? [[String: Any]])
        XCTAssertEqual(pairs(stack.last?["locals"]), ["limit=4", "total=0", "i=0"])
        // Its caller is the module, at the line that resumed it.
        XCTAssertEqual(stack.first?["function"] as? String, "<module>")
        XCTAssertEqual(stack.first?["line"] as? Int, 46)
    }

    func testTheStackAtARaiseAndCallsThatRaised() throws {
        let moment = try XCTUnwrap(try json(["show", "--first", "kind:exception func:explode"], type: "moment").first)
        let stack = try XCTUnwrap(moment["stack"] as? [[String: Any]])
        XCTAssertEqual(stack.map { $0["function"] as? String }, ["<module>", "explode", "explode", "explode"])
        XCTAssertEqual(stack.dropFirst().map { pairs($0["args"]) }, [["depth=2"], ["depth=1"], ["depth=0"]])
        let calls = try json(["calls", "explode"], type: "call")
        XCTAssertEqual(calls.map { pairs($0["args"]) }, [["depth=2"], ["depth=1"], ["depth=0"]])
        XCTAssertEqual(calls.map { ($0["raised"] as? [String: Any])?["value"] as? String }, Array(repeating: "KeyError('deep-key')", count: 3))
    }

    func testClosuresSeeTheirFreeVariables() throws {
        let moment = try XCTUnwrap(try json(["show", "--first", "func:add var:result"], type: "moment").first)
        let inner = try XCTUnwrap((moment["stack"] as? [[String: Any]])?.last)
        XCTAssertEqual(Set(pairs(inner["locals"])), ["x=2", "offset=40", "result=42"])
        let offsets = try json(["history", "offset"], type: "change").map { $0["function"] as? String }
        XCTAssertEqual(offsets.first, "make_adder")
    }

    func testReboundAndMutatedAreDifferentChanges() throws {
        let changes = try json(["history", "items"], type: "change")
        let values = changes.compactMap { ($0["values"] as? [[String: Any]])?.first { $0["name"] as? String == "items" } }
        XCTAssertEqual(values.map { $0["value"] as? String }, ["[1]", "[1, 2]", "[3]"])
        XCTAssertEqual(values.map { $0["mutated"] as? Bool ?? false }, [false, true, false])
        XCTAssertEqual(values.map { $0["rebound"] as? Bool ?? false }, [false, false, true])
    }

    func testCallTreeUnderOneCall() throws {
        let root = try firstSeq("func:fact kind:call")
        let r = try pode(["calls", "--tree", "--under", String(root), "--color", "never"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map { String($0.prefix { $0 != "#" }).replacingOccurrences(of: " ", with: "·") }
        XCTAssertEqual(lines, ["fact(n=4)·->·24··", "··fact(n=3)·->·6··", "····fact(n=2)·->·2··", "······fact(n=1)·->·1··"])
        let shallow = try pode(["calls", "--tree", "--under", String(root), "--depth", "2"])
        XCTAssertEqual(shallow.stdout.split(separator: "\n").count, 2)
    }

    /// Steps forward then back (and over calls) land on the same events both ways.
    func testScriptedReplayStepsBothWays() throws {
        let start = try firstSeq("func:fact kind:call")
        func seqs(_ commands: [String]) throws -> [Int] {
            let r = try pode(["replay", String(start)], stdin: commands.joined(separator: "\n") + "\nq\n")
            XCTAssertEqual(r.status, 0, r.stderr)
            return r.stdout.split(separator: "\n").compactMap { line in
                line.hasPrefix("#") ? Int(line.dropFirst().prefix { $0.isNumber }) : nil
            }
        }
        let steps = try seqs(Array(repeating: "s", count: 6) + Array(repeating: "b", count: 6))
        XCTAssertEqual(steps.count, 13)
        XCTAssertEqual(Array(steps[0...6]), Array(steps[6...12].reversed()))
        XCTAssertEqual(Array(steps[0...6]), Array(start...(start + 6)))
        let nexts = try seqs(["n", "n", "n", "rn", "rn", "rn"])
        XCTAssertEqual(Array(nexts[0...3]), Array(nexts[3...6].reversed()))
        // Over the recursive call: next from line 7 lands on line 8 of the same frame.
        XCTAssertGreaterThan(nexts[3] - nexts[2], 2)
        let session = try pode(["replay", String(start)], stdin: "r\nrfinish\np n\nbreak explode\nc\np depth\nrc\nclear\nsearch var:answer\nc\np rest\nq\n")
        XCTAssertTrue(session.stdout.contains("(pode) p n\nn = 4"), session.stdout)
        XCTAssertTrue(session.stdout.contains("(pode) p depth\ndepth = 2"), session.stdout)
        XCTAssertTrue(session.stdout.contains("answer = 42"), session.stdout)
        XCTAssertTrue(session.stdout.contains("(pode) p rest\nrest = [3, 6]"), session.stdout)
    }

    func testPValueLooksIntoRecordedContainersAndObjects() throws {
        let dir = try Harness.record("""
        class Point:
            def __init__(self, x, y):
                self.x = x
                self.y = y

        def main():
            rows = [{'name': 'ada', 'tags': ['a', 'b']}, {'name': 'bob', 'tags': []}]
            p = Point(3, [4, 5])
            return rows, p

        main()

        """, as: "p.py")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Harness.pode(["replay", "--trace", "t", "--first", "func:main kind:return"], in: dir,
                                 stdin: "p rows[0]['name']\np rows[0][\"tags\"][-1]\np p.y[1]\np p.z\np rows[5]\nq\n")
        XCTAssertTrue(r.stdout.contains("rows[0]['name'] = 'ada'"), r.stdout)
        XCTAssertTrue(r.stdout.contains("rows[0][\"tags\"][-1] = 'b'"), r.stdout)
        XCTAssertTrue(r.stdout.contains("p.y[1] = 5"), r.stdout)
        XCTAssertTrue(r.stdout.contains("*** the query cannot be run: the recorded value has no attribute 'z' (it has: x, y)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("index 5 is out of range"), r.stdout)
    }

    /// A scan for a pattern without index words decodes only the frames whose bytes hold one
    /// of its literals, and only a literal no grep line can take from its `name = ` part: a
    /// match through a variable's name, or `name deleted`, is still found. A word or prefix of
    /// a grep line's own words ("deleted") does not narrow through the index.
    func testGrepScanLiterals() throws {
        let dir = try Harness.record("""
        def main():
            total = 0
            for i in range(3000):
                label = "hay-%d" % i
                total += i
            needle_box = 7
            label = "a-needle-here"
            del needle_box
            return total

        main()

        """, as: "s.py")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let count = { (args: [String]) throws -> String in
            try Harness.pode(["grep", "--trace", "t", "-c"] + args, in: dir).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        XCTAssertEqual(try count(["edle-h"]), "1")  // inside a value's text
        XCTAssertEqual(try count(["y-29[0-9]9"]), "10")
        XCTAssertEqual(try count(["-i", "EDLE-H"]), "1")
        XCTAssertEqual(try count(["dle_box = 7"]), "1")  // begins in a name
        XCTAssertEqual(try count(["box deleted"]), "1")
        XCTAssertEqual(try count(["box del"]), "1")  // "del" may be the start of "deleted", which no index holds
        XCTAssertEqual(try count(["eedle_b"]), "2")  // inside a name: its value and its deletion
        XCTAssertEqual(try count(["l = 'a-nee"]), "1")
        XCTAssertEqual(try Harness.pode(["grep", "--trace", "t", "edle-x"], in: dir).status, 1)
    }

    /// grep -C prints context events with '-' and '--' between groups, byte for byte.
    func testGrepContextTranscript() throws {
        let dir = try Harness.record("""
        def scan(words):
            found = []
            for w in words:
                if w.startswith('ne'):
                    found.append(w)
            return found

        scan(['hay', 'needle', 'straw', 'hay', 'nest'])

        """, as: "g.py")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Harness.pode(["grep", "--trace", "t", "-C", "1", "w = 'ne"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        // A match is shown at the line that set the value (the for), context events at their own line.
        XCTAssertEqual(r.stdout, """
        g.py-3- #8 scan
        g.py:3: #9 scan: w = 'needle'
        g.py-5- #10 scan
        --
        g.py-3- #15 scan
        g.py:3: #16 scan: w = 'nest'
        g.py-5- #17 scan

        """)
        // Counting, a pattern without literal words (scans the log), -w, -i, -l, -m and no match.
        let count = { (args: [String]) throws -> String in
            try Harness.pode(["grep", "--trace", "t"] + args, in: dir).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // words at the call, w, found twice and the return value.
        XCTAssertEqual(try count(["-c", "needle"]), "5")
        XCTAssertEqual(try count(["-c", "n[e]+dle"]), "5")
        XCTAssertEqual(try count(["-c", "-w", "ne"]), "0")
        XCTAssertEqual(try count(["-c", "-i", "NEST"]), "4")
        XCTAssertEqual(try count(["-c", "-F", "['needle']"]), "1")
        XCTAssertEqual(try count(["-l", "hay"]), "g.py")
        XCTAssertEqual(try count(["-c", "-m", "1", "hay"]), "1")
        XCTAssertEqual(try Harness.pode(["grep", "--trace", "t", "zebra"], in: dir).status, 1)
        let bad = try Harness.pode(["grep", "--trace", "t", "(unclosed"], in: dir)
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.hasPrefix("pode: '(unclosed' is not a valid regular expression"), bad.stderr)
    }

    func testEveryCommandHasHelp() throws {
        for command in [[], ["record"], ["search"], ["show"], ["history"], ["calls"], ["grep"], ["replay"], ["index"], ["ls"]] {
            let r = try Harness.pode(command + ["--help"], in: dir)
            XCTAssertEqual(r.status, 0, "\(command): \(r.stderr)")
            XCTAssertTrue(r.stdout.hasPrefix("OVERVIEW: "), "\(command): \(r.stdout)")
        }
    }

    func testMissingEventsAndNamesExitWithOne() throws {
        let r = try pode(["show", "99999999"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("there is no event #99999999"), r.stderr)
        XCTAssertEqual(try pode(["calls", "no_such_function"]).status, 1)
        XCTAssertEqual(try pode(["show", "--first", "zebra-never"]).status, 1)
    }
}
