import Foundation
import XCTest
import PodeIndex
import PodeLog
import XapianKit

/// Records real programs with the built pode and checks what search finds.
final class SearchTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws { dir = try Harness.tempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// A distinctive string made in a known function at a known iteration.
    static let needleProgram = """
    import sys

    def tokenize(text):
        words = []
        for i, word in enumerate(text.split()):
            if i == 7:
                marker = "needle-" + "7f3a"
                words.append(marker)
            words.append(word.lower())
        return words

    def main():
        text = "The quick brown fox jumps over the lazy dog again and again"
        parts = tokenize(text)
        print(len(parts))

    main()

    """

    @discardableResult
    func record(_ program: String, name: String = "prog.py", args: [String] = []) throws -> Run {
        try Harness.write(program, to: name, in: dir)
        let r = try Harness.pode(["record", "-o", "trace", name] + args, in: dir)
        XCTAssertEqual(r.status, 0, "record failed: \(r.stderr)")
        return r
    }

    func testFirstNamesFileLineFunctionAndVariable() throws {
        try record(Self.needleProgram)
        let r = try Harness.pode(["search", "--trace", "trace", "--first", "value:\"needle-7f3a\""], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = r.stdout.trimmingCharacters(in: .newlines)
        XCTAssertTrue(line.hasPrefix("prog.py:7: #"), line)
        XCTAssertTrue(line.hasSuffix(" tokenize: marker = 'needle-7f3a'"), line)
    }

    /// Single-word values have no exact-value term in block documents; value: still finds them
    /// through the index (the tail scan is empty once recording ends), case-sensitively.
    func testExactValuesOfSingleWordsAreFoundThroughTheIndex() throws {
        try record("""
        def main():
            total = 0
            for i in range(5000):
                total += i
            label = "Needle_Word"
            return total, label

        main()

        """)
        func count(_ query: String) throws -> String {
            let r = try Harness.pode(["search", "--trace", "trace", "--count", query], in: dir)
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        XCTAssertEqual(try count("value:12497500 var:total"), "1")
        XCTAssertEqual(try count("value:Needle_Word"), "1")
        XCTAssertEqual(try count("value:Needle_W*"), "1")
        XCTAssertEqual(try count("value:needle_word"), "0")
        XCTAssertEqual(try count("needle_word var:label"), "1")
    }

    /// Long numbers are held in block documents by their first bytes only (Schema.numberBucketBytes);
    /// what a search finds must be what reading every event finds.
    func testNumbersFindWhatReadingEveryEventFinds() throws {
        try record("""
        def main():
            seen = 0
            for i in range(3000):
                code = (i * 7919) % 1000003
                ratio = i / 7
                label = "%d,%03d" % (i // 1000, i % 1000)
                seen += 1
            return seen

        main()

        """)
        let queries = ["123456", "value:7919", "15838", "1,234", "value:\"2,345\"", "1234*", "12*", "value:0.1428*", "0.142*",
                       "3.*", "var:code 79*", "\"ratio 1.5714285714285714\"", "value:999", "123456 OR 7919", "NOT 7919 var:code", "n123"]
        func hits(_ q: String) throws -> [Substring] {
            let r = try Harness.pode(["search", "--trace", "trace", "--json", "--", q], in: dir)
            return r.stdout.split(separator: "\n").filter { $0.contains("\"type\":\"match\"") }
        }
        let indexed = try queries.map(hits)
        XCTAssertEqual(indexed[queries.firstIndex(of: "value:7919")!].count, 1)
        XCTAssertFalse(indexed[queries.firstIndex(of: "1234*")!].isEmpty)
        XCTAssertFalse(indexed[queries.firstIndex(of: "value:0.1428*")!].isEmpty)
        // The same questions with neither index nor summaries: every event is read.
        try FileManager.default.removeItem(atPath: dir + "/trace/index")
        try FileManager.default.removeItem(atPath: dir + "/trace/summaries.bin")
        for (i, q) in queries.enumerated() { XCTAssertEqual(try hits(q), indexed[i], q) }
    }

    /// An index whose terms are of another form (an older pode's) is not searched nor added to.
    func testAnIndexOfAnotherFormIsReadAroundAndRebuiltOnRequest() throws {
        try record(Self.needleProgram)
        func count() throws -> String { try Harness.pode(["search", "--trace", "trace", "--count", "needle-7f3a"], in: dir).stdout }
        let truth = try count()
        XCTAssertNotEqual(truth, "0\n")
        let db = try WritableXapianDatabase(path: dir + "/trace/index")
        try db.setMetadata(Schema.Metadata.formatVersion, "2")
        try db.commit()
        try db.close()
        XCTAssertEqual(try count(), truth, "the log is read instead")
        let append = try Harness.pode(["index", "--trace", "trace"], in: dir)
        XCTAssertEqual(append.status, 2)
        XCTAssertTrue(append.stderr.contains("made by an older pode") && append.stderr.contains("--rebuild"), append.stderr)
        let rebuilt = try Harness.pode(["index", "--trace", "trace", "--rebuild"], in: dir)
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        XCTAssertEqual(try XapianDatabase(path: dir + "/trace/index").metadata(Schema.Metadata.formatVersion), Schema.indexFormat)
        XCTAssertEqual(try count(), truth)
    }

    /// A short run's finished index is compacted (IndexCompaction): smaller than one committed
    /// block by block, with every document and term, so searches answer as reading the log does.
    func testASmallFinishedIndexIsCompacted() throws {
        try record("""
        words = []
        for i in range(20000):
            words.append(f"w{i % 997}-{i % 13}")
            if len(words) > 50:
                words = words[25:]
        total = len(words)

        """)
        let trace = dir + "/trace", index = trace + "/index"
        for leftover in [".compacting", ".old"] { XCTAssertFalse(FileManager.default.fileExists(atPath: index + leftover), leftover) }
        let queries = ["w5-5", "w99*", "var:words", "kind:line func:<module>", "value:51", "total"]
        func answers(_ trace: String) throws -> [String] {
            try queries.map { q in try Harness.pode(["search", "--trace", trace, "--count", q], in: dir).stdout }
        }
        let compacted = try answers(trace)
        XCTAssertFalse(compacted.contains("0\n"), "\(compacted)")
        // The same trace with no index (the log is read) and with one committed at every block.
        let bare = dir + "/bare", loose = dir + "/loose"
        for copy in [bare, loose] {
            try FileManager.default.copyItem(atPath: trace, toPath: copy)
            try FileManager.default.removeItem(atPath: copy + "/index")
            try FileManager.default.removeItem(atPath: copy + "/summaries.bin")
        }
        XCTAssertEqual(try answers(bare), compacted)
        let indexer = try BlockIndexer(traceDirectory: loose, reader: try LogReader(directory: loose), blocksPerCommit: 1)
        try indexer.indexAvailable(final: true)
        try indexer.close()
        XCTAssertGreaterThan(indexer.blocks, 4)
        XCTAssertEqual(try answers(loose), compacted)
        func size(_ path: String) throws -> Int {
            try FileManager.default.contentsOfDirectory(atPath: path).reduce(0) {
                $0 + ((try FileManager.default.attributesOfItem(atPath: path + "/" + $1)[.size] as? Int) ?? 0)
            }
        }
        let looseSize = try size(loose + "/index"), compactedSize = try size(index)
        XCTAssertLessThan(compactedSize, looseSize * 3 / 4, "compacted \(compactedSize) bytes against \(looseSize)")
        XCTAssertTrue(IndexCompaction.compactIfSmall(traceDirectory: loose))
        XCTAssertEqual(try answers(loose), compacted)
        XCTAssertFalse(IndexCompaction.compactIfSmall(traceDirectory: loose, largest: 1000), "only small indexes are compacted")
    }

    /// Event times (taken from the TSC where it is invariant) follow the monotonic clock: a
    /// sleep shows as its length between two events, and no event is earlier than the one before.
    func testEventTimesFollowTheClock() throws {
        try record("""
        import time
        before = 1
        time.sleep(0.25)
        after = 2
        for i in range(5000):
            step = i
        done = 3

        """)
        let r = try Harness.pode(["search", "--trace", "trace", "--json", "seq:1.."], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let hits = Harness.jsonLines(r.stdout, type: "match")
        let times = hits.compactMap { $0["time_ns"] as? Int }
        XCTAssertEqual(times.count, hits.count)
        XCTAssertGreaterThan(times.count, 5000)
        XCTAssertEqual(times, times.sorted(), "event times go backwards")
        func time(ofLine line: Int) -> Int? {
            hits.first { ($0["event_line"] as? Int) == line }?["time_ns"] as? Int
        }
        let slept = try XCTUnwrap(time(ofLine: 4)) - XCTUnwrap(time(ofLine: 3))
        XCTAssertGreaterThan(slept, 245_000_000)
        XCTAssertLessThan(slept, 2_000_000_000)
    }

    func testPlainWordsFindEveryEventHoldingTheValueInTimeOrder() throws {
        try record(Self.needleProgram)
        let r = try Harness.pode(["search", "--trace", "trace", "--json", "needle-7f3a"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let hits = Harness.jsonLines(r.stdout, type: "match")
        let seqs = hits.compactMap { $0["seq"] as? Int }
        XCTAssertEqual(seqs, seqs.sorted(), "hits are in time order")
        // marker assigned, words mutated (append) for each of the remaining words, the return, main's parts.
        let names = hits.flatMap { ($0["values"] as? [[String: Any]] ?? []).filter { $0["matched"] as? Bool == true }.compactMap { $0["name"] as? String } }
        XCTAssertEqual(names.first, "marker")
        XCTAssertTrue(names.contains("words"))
        XCTAssertTrue(names.contains("<return>"))
        XCTAssertTrue(names.contains("parts"))
        let reversed = try Harness.pode(["search", "--trace", "trace", "--json", "--reverse", "needle-7f3a"], in: dir)
        XCTAssertEqual(Harness.jsonLines(reversed.stdout, type: "match").compactMap { $0["seq"] as? Int }, seqs.reversed())
        let last = try Harness.pode(["search", "--trace", "trace", "--json", "--last", "needle-7f3a"], in: dir)
        XCTAssertEqual(Harness.jsonLines(last.stdout, type: "match").compactMap { $0["seq"] as? Int }, [seqs.last!])
    }

    func testFacetCountsEqualTheTrueCounts() throws {
        try record("""
        def tokenize(line):
            out = []
            for word in line.split():
                out.append(word)
            return out

        def count(words):
            seen = {}
            for word in words:
                seen[word] = seen.get(word, 0) + 1
            return seen

        for line in ["a b c", "d e", "f"]:
            count(tokenize(line))

        """)
        // tokenize binds `word` 3 + 2 + 1 times; count binds it as often.
        let r = try Harness.pode(["search", "--trace", "trace", "--json", "var:word", "--facets", "func,var,kind"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let facets = Harness.jsonLines(r.stdout, type: "facets").first ?? [:]
        XCTAssertEqual(facets["func"] as? [String: Int], ["tokenize": 6, "count": 6])
        XCTAssertEqual(facets["var"] as? [String: Int], ["word": 12])
        XCTAssertEqual(facets["kind"] as? [String: Int], ["line": 12])
        let count = try Harness.pode(["search", "--trace", "trace", "--count", "func:tokenize var:word"], in: dir)
        XCTAssertEqual(count.stdout, "6\n")
    }

    /// Counts and facets past a limit come from block summaries; printing every hit checks
    /// each event. Both must agree on every kind of query, over several blocks, threads,
    /// events with many values, deletions and values the query's word is in twice.
    func testSummaryCountsAndFacetsEqualTheEventByEventOnes() throws {
        try record("""
        import threading

        def helper(d, key):
            d[key] = "txn-%d" % (key % 7)
            return len(d)

        def work(n, tag):
            d = {}
            total = 0
            for i in range(n):
                label = "txn-%d" % (i % 5)
                x, y = i, "txn-%d txn" % i
                total += helper(d, i % 11)
                if i % 13 == 0:
                    tmp = tag
                    del tmp
            return total

        t = threading.Thread(target=work, args=(300, "thread txn"))
        t.start()
        work(900, "main")
        t.join()

        """)
        let queries = ["txn", "func:work", "var:total", "kind:line var:x", "value:\"txn-3\"", "txn NOT func:helper",
                       "txn OR kind:call", "seq:100..5000", "seq:100..5000 txn", "line:11..13", "type:int var:d", "-txn",
                       "func:wo*", "var:tmp", "thread:1 txn", "txn y", "x OR txn", "3", "type:str", "value:3"]
        for q in queries {
            // Every hit printed: each event checked.
            let all = try Harness.pode(["search", "--trace", "trace", "--json", "--facets", "--", q], in: dir)
            // One hit printed, then the rest tallied from summaries.
            let tallied = try Harness.pode(["search", "--trace", "trace", "--json", "--limit", "1", "--facets", "--", q], in: dir)
            let count = try Harness.pode(["search", "--trace", "trace", "--count", "--", q], in: dir)
            XCTAssertEqual(all.status, 0, "\(q): \(all.stderr)")
            let matches = Harness.jsonLines(all.stdout, type: "match").count
            XCTAssertGreaterThan(matches, 0, q)
            XCTAssertEqual(count.stdout, "\(matches)\n", q)
            let expected = Harness.jsonLines(all.stdout, type: "facets").first ?? [:]
            let got = Harness.jsonLines(tallied.stdout, type: "facets").first ?? [:]
            for facet in ["file", "func", "var", "kind", "type", "thread"] {
                XCTAssertEqual(got[facet] as? [String: Int], expected[facet] as? [String: Int], "\(q): facet \(facet)")
            }
        }

        // A damaged or cut summary is never believed: its block is read instead.
        func count(_ q: String) throws -> String { try Harness.pode(["search", "--trace", "trace", "--count", q], in: dir).stdout }
        let truth = try count("txn")
        let path = dir + "/trace/summaries.bin"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertGreaterThan(bytes.count, 1000)
        for i in stride(from: 5, to: bytes.count, by: 97) { bytes[i] ^= 0x24 }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try count("txn"), truth)
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try count("txn"), truth)
        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(try count("txn"), truth)
    }

    /// `pode index` finishes (or with --rebuild, remakes) an index; answers do not change.
    func testIndexCommandCompletesAndRebuildsTheIndex() throws {
        try record(Self.needleProgram)
        func count() throws -> String { try Harness.pode(["search", "--trace", "trace", "--count", "needle"], in: dir).stdout }
        let before = try count()
        let again = try Harness.pode(["index", "--trace", "trace"], in: dir)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("already complete"), again.stdout)
        try FileManager.default.removeItem(atPath: dir + "/trace/index")
        try FileManager.default.removeItem(atPath: dir + "/trace/summaries.bin")
        XCTAssertEqual(try count(), before, "the unindexed log is still searched")
        let made = try Harness.pode(["index", "--trace", "trace"], in: dir)
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertTrue(made.stdout.contains("indexed "), made.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/trace/summaries.bin"))
        XCTAssertEqual(try count(), before)
        let rebuilt = try Harness.pode(["index", "--trace", "trace", "--rebuild"], in: dir)
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        XCTAssertEqual(try count(), before)
        let missing = try Harness.pode(["index", "--trace", "nowhere"], in: dir)
        XCTAssertEqual(missing.status, 2)
    }

    func testNegationIsDecidedPerEventNotPerBlock() throws {
        try record("""
        def deep(n):
            return n if n == 0 else deep(n - 1)
        def other(k):
            return k
        deep(5)
        other(1)

        """)
        func count(_ q: String) throws -> String { try Harness.pode(["search", "--trace", "trace", "--count", "--", q], in: dir).stdout }
        XCTAssertEqual(try count("kind:call"), "8\n")  // the module, 6 x deep, other
        XCTAssertEqual(try count("kind:call -func:deep"), "2\n")
        XCTAssertEqual(try count("kind:call NOT func:deep"), "2\n")
        XCTAssertEqual(try count("kind:call -func:deep -func:other"), "1\n")
        // A query of only excluded terms means "everything but".
        XCTAssertEqual(try count("-func:deep"), try count("NOT func:deep"))
        XCTAssertNotEqual(try count("-func:deep"), try count("func:deep"))
    }

    func testInPlaceChangesAndRebindingAreRecorded() throws {
        try record("""
        def f():
            items = []
            items.append("first-item")
            d = {}
            d["key"] = "dict-value"
            s = set()
            s.add("set-member")
            items = ["new-list"]
            return len(items)

        f()

        """)
        func valuesOf(_ query: String) throws -> [(String, String, Bool, Bool)] {
            let r = try Harness.pode(["search", "--trace", "trace", "--json", query], in: dir)
            return Harness.jsonLines(r.stdout, type: "match").flatMap { hit in
                (hit["values"] as? [[String: Any]] ?? []).filter { $0["matched"] as? Bool == true }.map {
                    ($0["name"] as! String, $0["value"] as! String, $0["mutated"] as? Bool ?? false, $0["rebound"] as? Bool ?? false)
                }
            }
        }
        let items = try valuesOf("var:items")
        XCTAssertEqual(items.map(\.1), ["[]", "['first-item']", "['new-list']"])
        XCTAssertEqual(items.map(\.2), [false, true, false])
        XCTAssertEqual(items.map(\.3), [false, false, true])
        XCTAssertEqual(try valuesOf("var:d").map(\.1), ["{}", "{'key': 'dict-value'}"])
        XCTAssertEqual(try valuesOf("var:s").map(\.1), ["set()", "{'set-member'}"])
    }

    func testRecursionClosuresClassesAndExceptions() throws {
        try record("""
        class Account:
            def __init__(self, owner):
                self.owner = owner
                self.balance = 0

            def deposit(self, amount):
                self.balance += amount
                return self.balance

            def __repr__(self):
                raise RuntimeError("repr must never run")

        def fact(n):
            return 1 if n <= 1 else n * fact(n - 1)

        def make_adder(k):
            def add(x):
                return x + k
            return add

        acct = Account("ada-lovelace")
        acct.deposit(42)
        fact(5)
        make_adder(10)(5)
        try:
            {}["missing-key"]
        except KeyError:
            pass

        """)
        func firstLine(_ q: String) throws -> String {
            let r = try Harness.pode(["search", "--trace", "trace", "--first", q], in: dir)
            XCTAssertEqual(r.status, 0, "\(q): \(r.stderr)")
            return r.stdout.trimmingCharacters(in: .newlines)
        }
        XCTAssertTrue(try firstLine("func:fact kind:return value:1").hasSuffix("fact [return]: <return> = 1"))
        XCTAssertTrue(try firstLine("func:fact kind:return value:120").contains("<return> = 120"))
        XCTAssertEqual(try Harness.pode(["search", "--trace", "trace", "--count", "func:fact kind:call"], in: dir).stdout, "5\n")
        // A closure's call shows its free variables with its arguments.
        XCTAssertTrue(try firstLine("func:add kind:call").hasSuffix("make_adder.<locals>.add [call]: x = 5, k = 10"))
        XCTAssertTrue(try firstLine("func:add kind:return").hasSuffix("<return> = 15"))
        let deposit = try firstLine("func:Account.deposit kind:return")
        XCTAssertTrue(deposit.contains("<return> = 42"), deposit)
        let obj = try firstLine("var:acct")
        XCTAssertTrue(obj.contains("<__main__.Account object at 0x"), obj)
        XCTAssertTrue(obj.contains("owner='ada-lovelace', balance=0"), obj)
        XCTAssertFalse(obj.contains("repr must never run"))
        let exc = try firstLine("kind:exception type:KeyError")
        XCTAssertTrue(exc.contains("KeyError('missing-key')"), exc)
    }

    func testThreadsAreRecordedWithTheirOwnNumbers() throws {
        try record("""
        import threading
        def work(n):
            total = 0
            for i in range(n):
                total += i
            return total
        ts = [threading.Thread(target=work, args=(k,)) for k in (3, 4)]
        for t in ts: t.start()
        for t in ts: t.join()

        """)
        let r = try Harness.pode(["search", "--trace", "trace", "--json", "func:work kind:call", "--facets", "thread"], in: dir)
        let threads = (Harness.jsonLines(r.stdout, type: "facets").first?["thread"] as? [String: Int]) ?? [:]
        XCTAssertEqual(threads.count, 2, "\(threads)")
        XCTAssertTrue(threads.values.allSatisfy { $0 == 1 })
        XCTAssertFalse(threads.keys.contains("0"), "the workers are not the main thread")
    }

    func testGeneratorsShowSuspensionAndResumption() throws {
        try record("""
        def gen():
            for x in ("g-one", "g-two"):
                yield x
        for v in gen():
            pass

        """)
        let y = try Harness.pode(["search", "--trace", "trace", "--count", "kind:yield func:gen"], in: dir)
        XCTAssertEqual(y.stdout, "2\n")
        let r = try Harness.pode(["search", "--trace", "trace", "--count", "kind:resume func:gen"], in: dir)
        XCTAssertEqual(r.stdout, "2\n")
    }

    func testExitStatusesAndErrors() throws {
        try record(Self.needleProgram)
        let none = try Harness.pode(["search", "--trace", "trace", "zebra-not-there"], in: dir)
        XCTAssertEqual(none.status, 1)
        XCTAssertEqual(none.stdout, "")
        let unknown = try Harness.pode(["search", "--trace", "trace", "colour:red"], in: dir)
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.hasPrefix("pode: unknown field 'colour:'"), unknown.stderr)
        XCTAssertEqual(unknown.stderr.split(separator: "\n").count, 1)
        let syntax = try Harness.pode(["search", "--trace", "trace", "needle AND"], in: dir)
        XCTAssertEqual(syntax.status, 2)
        XCTAssertTrue(syntax.stderr.hasPrefix("pode: the query is not valid"), syntax.stderr)
        let notTrace = try Harness.pode(["search", "--trace", ".", "x"], in: dir)
        XCTAssertEqual(notTrace.status, 2)
        XCTAssertTrue(notTrace.stderr.contains("is not a pode trace"), notTrace.stderr)
        let missing = try Harness.pode(["record", "no-such-script.py"], in: dir)
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.hasPrefix("pode: cannot record no-such-script.py: no such file"), missing.stderr)
        let again = try Harness.pode(["record", "-o", "trace", "prog.py"], in: dir)
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stderr.contains("not empty"), again.stderr)
    }

    func testDefaultTraceIsTheNewestUnderDotPode() throws {
        try Harness.write("x = 'first-run'\n", to: "a.py", in: dir)
        try Harness.write("x = 'second-run'\n", to: "b.py", in: dir)
        XCTAssertEqual(try Harness.pode(["record", "a.py"], in: dir).status, 0)
        XCTAssertEqual(try Harness.pode(["record", "b.py"], in: dir).status, 0)
        XCTAssertEqual(try Harness.pode(["search", "second-run"], in: dir).status, 0)
        XCTAssertEqual(try Harness.pode(["search", "first-run"], in: dir).status, 1)
        let ls = try Harness.pode(["ls"], in: dir)
        XCTAssertEqual(ls.stdout.split(separator: "\n").count, 3, ls.stdout)
        XCTAssertTrue(ls.stdout.contains("b.py"))
    }
}

/// Output conventions shared with grep and ripgrep.
final class OutputTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = try Harness.tempDirectory()
        try Harness.write("for i in range(20000):\n    v = f'row-{i}'\n", to: "many.py", in: dir)
        XCTAssertEqual(try Harness.pode(["record", "-o", "t", "many.py"], in: dir).status, 0)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func testABrokenPipeEndsQuietly() throws {
        let r = try Harness.run("/bin/sh", ["-c", "'\(Harness.pode)' search --trace t row | head -n 1; echo \"status=${PIPESTATUS:-0}\""], in: dir)
        XCTAssertTrue(r.stdout.hasPrefix("many.py:2: #"), r.stdout)
        XCTAssertEqual(r.stderr, "", "no complaint about the closed pipe")
    }

    func testColourAndGroupingOnRequest() throws {
        let r = try Harness.pode(["search", "--trace", "t", "--color=always", "--limit", "2", "value:row-7"], in: dir)
        XCTAssertTrue(r.stdout.hasPrefix("\u{1B}[1;35mmany.py\u{1B}[0m\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("\u{1B}[32m2\u{1B}[0m: "), r.stdout)
        let plain = try Harness.pode(["search", "--trace", "t", "--color=never", "value:row-7"], in: dir)
        XCTAssertFalse(plain.stdout.contains("\u{1B}["))
    }
}
