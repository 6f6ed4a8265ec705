import XCTest
@testable import PodeIndex
@testable import PodeLog
@testable import XapianKit

/// A block document must hold exactly the union of its events' terms (less single words' exact-value terms).
final class SchemaTests: XCTestCase {
    /// Definitions of one code (id 1, in /src/app.py, line 3), types 1... and names 3... in order.
    func definitions(qualname: String, types: [String], names: [String]) throws -> Definitions {
        var defs = Definitions()
        var records: [UInt8] = []
        func str(_ s: String) { Varint.append(UInt64(s.utf8.count), to: &records); records += Array(s.utf8) }
        records.append(1); Varint.append(1, to: &records); str("/src/app.py"); str(qualname); str("run"); Varint.append(3, to: &records); Varint.append(0, to: &records); Varint.append(0, to: &records)
        for (i, t) in types.enumerated() { records.append(3); Varint.append(UInt64(i + 1), to: &records); str(t) }
        for (i, n) in names.enumerated() { records.append(4); Varint.append(UInt64(i + 3), to: &records); str(n) }
        try records.withUnsafeBytes { try defs.add(records: $0) }
        return defs
    }

    func testBlockTermsEqualTheUnionOfEventTerms() throws {
        let defs = try definitions(qualname: "Tok.run", types: ["str", "app.Node", "int", "bytes"], names: ["word_count", "node"])
        func value(_ name: UInt32, _ type: UInt32, _ text: String, _ flags: ValueFlags = []) -> RecordedValue {
            RecordedValue(name: name, type: type, flags: flags, text: text, fullLength: 0)
        }
        let events = [
            Event(seq: 1, time: 0, kind: .call, thread: 0, activation: 1, caller: 0, callerLine: 0, code: 1, line: 3, depth: 0, valueLine: 3,
                  values: [value(3, 1, "'Needle-7f3a it\\'s'")]),
            Event(seq: 2, time: 0, kind: .line, thread: 1, activation: 1, caller: 0, callerLine: 0, code: 1, line: 4, depth: 0, valueLine: 3,
                  values: [value(4, 2, "<app.Node object at 0x1> {x=3.14}"), value(3, 0, "", .deleted)]),
            Event(seq: 3, time: 0, kind: .return, thread: 1, activation: 1, caller: 0, callerLine: 0, code: 1, line: 5, depth: 0, valueLine: 5,
                  values: [value(ValueName.returnValue, 1, "'héllo'"), value(3, 1, "'word_like_1'")]),
            // Texts the indexer splits as bytes, and their neighbours that it splits as Strings.
            Event(seq: 4, time: 0, kind: .line, thread: 1, activation: 1, caller: 0, callerLine: 0, code: 1, line: 6, depth: 0, valueLine: 5,
                  values: [value(3, 1, "\"it's Big & Bold C++\""), value(4, 1, "''"), value(3, 1, "'Cut short here", .truncated),
                           value(4, 1, "'" + String(repeating: "long words ", count: 9) + "'"), value(3, 3, "-35"),
                           value(4, 3, "12345678901234567890123"), value(3, 4, "b'needle\\x00'"), value(4, 1, "'tab\\there'"),
                           value(3, 2, "<app.Node object at 0x2> {name='Ab', n=1.5e-07}"), value(4, 1, "not quoted"), value(3, 1, "'")]),
        ]
        var union = Set<String>()
        for e in events { Schema.terms(of: e, definitions: defs, into: &union) }
        XCTAssertEqual(Schema.blockTerms(of: events, definitions: defs),
                       union.filter { !($0.hasPrefix("X") && Schema.isSingleASCIIWord(String($0.dropFirst()))) })
        XCTAssertTrue(union.contains("Xword_like_1"), "the per-event check keeps a single word's exact-value term")
        XCTAssertTrue(union.isSuperset(of: ["Kcall", "Kreturn", "H1", "F/src/app.py", "Bapp.py", "STok.run", "Srun", "Vword_count",
                                            "Tapp.Node", "TNode", "needle", "7f3a", "it's", "3.14", "héllo", "Xhéllo",
                                            "X<app.Node object at 0x1> {x=3.14}"]))
        // A long container rendering gets words but no exact-value term.
        var long = Set<String>()
        let list = "[" + (0..<40).map { "'item-\($0)'" }.joined(separator: ", ") + "]"
        Schema.valueTerms(value(3, 2, list), definitions: defs, into: &long)
        XCTAssertTrue(long.contains("item"))
        XCTAssertFalse(long.contains { $0.hasPrefix("X") })
    }

    /// Block documents hold long number words by their bucket, and no exact-value term of a
    /// number text; summaries (BlockSummary) keep both whole.
    func testBlockDocumentsHoldNumbersByTheirBuckets() throws {
        let defs = try definitions(qualname: "run", types: ["int", "float", "str"], names: ["n"])
        let texts: [(UInt32, String)] = [(1, "123456"), (1, "123999"), (2, "3.14159"), (1, "12"), (1, "1234"), (3, "'1,234 and 7.5e-05'"), (3, "'abc123456'")]
        let e = Event(seq: 1, time: 0, kind: .line, thread: 0, activation: 1, caller: 0, callerLine: 0, code: 1, line: 3, depth: 0, valueLine: 3,
                      values: texts.map { RecordedValue(name: 3, type: $0.0, flags: [], text: $0.1, fullLength: 0) })
        var facts = BlockFacts(summarized: true)
        facts.add(e)
        let textTerms = Schema.textTerms(of: facts, definitions: defs)
        let list = Schema.documentTerms(of: facts, textTerms: textTerms, definitions: defs)
        var terms: [String] = []
        list.packed.withUnsafeBytes { raw in
            var at = 0
            while at + 4 <= raw.count {
                let n = Int(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
                terms.append(String(decoding: raw[at + 4..<at + 4 + n], as: UTF8.self))
                at += 4 + n
            }
        }
        XCTAssertEqual(terms.filter { $0 == "N123" }.count, 1, "one bucket for 1234, 123456 and 123999: \(terms)")
        for held in ["N3.1", "12", "N1,2", "7.5e", "05", "abc123456", "X1,234 and 7.5e-05"] { XCTAssertTrue(terms.contains(held), "\(held): \(terms)") }
        for left in ["123456", "1234", "3.14159", "X3.14159", "1,234"] { XCTAssertFalse(terms.contains(left), "\(left): \(terms)") }
        // Summaries keep the words and the number's exact value whole.
        for whole in ["123456", "3.14159", "X3.14159", "1,234"] { XCTAssertTrue(textTerms.names.contains(whole), whole) }
        XCTAssertEqual(Schema.documentTerm(ofWord: "78019"), "N780")
        XCTAssertEqual(Schema.documentTerm(ofWord: "780"), "780")
        XCTAssertEqual(Schema.documentTerm(ofWord: "x78019"), "x78019")
    }

    /// A block's text terms: each text's term numbers name exactly its words (and its exact
    /// value), each once, however short words share the cache of short terms (more distinct
    /// short words than it has slots, so that some must share one).
    func testTextTermsNameEachTextsWordsOnce() throws {
        let defs = try definitions(qualname: "run", types: ["list", "str"], names: ["xs"])
        func word(_ i: Int) -> String { String(i * 7919 % 1_000_003, radix: 36) }  // 1 to 4 bytes
        var events: [Event] = []
        for t in 0..<400 {
            // Words of 1 to 7 bytes, some twice in one text, some in many texts.
            let words = (0..<24).map { j in word((t * 13 + j * 17) % 9000) + String(repeating: "q", count: j % 4) } + [word(t), word(t)]
            let text = "[" + words.map { "'\($0)'" }.joined(separator: ", ") + "]"
            events.append(Event(seq: UInt64(t + 1), time: 0, kind: .line, thread: 0, activation: 1, caller: 0, callerLine: 0, code: 1, line: 3,
                                depth: 0, valueLine: 3, values: [RecordedValue(name: 3, type: 1, flags: [], text: text, fullLength: 0)]))
        }
        var facts = BlockFacts(summarized: true)
        for e in events { facts.add(e) }
        let textTerms = Schema.textTerms(of: facts, definitions: defs)
        let names = textTerms.names
        XCTAssertEqual(Set(names).count, names.count, "each term once")
        XCTAssertGreaterThan(names.count, 4096, "more short terms than the cache has slots")
        for (k, entry) in facts.texts.entries.enumerated() {
            var expected = Set<String>()
            Tokenizer.forEachWord(in: facts.texts.text(entry), parts: true) { expected.insert($0) }
            let numbers = Array(textTerms.numbers(ofText: k))
            XCTAssertEqual(Set(numbers).count, numbers.count, "text \(k) has a term twice")
            XCTAssertEqual(Set(numbers.map { names[Int($0)] }), expected, "text \(k)")
        }
    }
}
