import Foundation
import XCTest
@testable import XapianKit

final class XapianKitTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "/xapiankit-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    let fields: [(name: String, field: XapianField)] = [
        ("func", .exact(prefix: "S")),
        ("file", .exact(prefix: "F")),
        ("file", .exact(prefix: "B")),
        ("seq", .range(tag: 1, loSlot: 0, hiSlot: 1)),
    ]

    func makeDatabase() throws -> String {
        let path = dir + "/db"
        let db = try WritableXapianDatabase(path: path)
        for (i, (words, fn)) in [(["alpha", "beta"], "tokenize"), (["beta", "gamma"], "main"), (["delta"], "tokenize")].enumerated() {
            let doc = XapianDocument()
            for w in words { doc.addTerm(w) }
            doc.addTerm("S" + fn)
            doc.addTerm("Bfile\(i).py")
            doc.setValue(0, XapianSortable.serialise(Double(i * 100)))
            doc.setValue(1, XapianSortable.serialise(Double(i * 100 + 99)))
            doc.setValue(5, Array(fn.utf8))
            doc.setData(Array("block \(i)".utf8))
            try db.add(doc)
        }
        try db.setMetadata("k", "v")
        try db.commit()
        try db.close()
        return path
    }

    func testDocumentsRoundTrip() throws {
        let path = try makeDatabase()
        let db = try XapianDatabase(path: path)
        XCTAssertEqual(try db.documentCount(), 3)
        XCTAssertEqual(try db.metadata("k"), "v")
        XCTAssertNil(try db.metadata("missing"))
        let doc = try db.document(2)
        XCTAssertEqual(String(decoding: doc.data, as: UTF8.self), "block 1")
        XCTAssertEqual(String(decoding: doc.value(5), as: UTF8.self), "main")
        XCTAssertEqual(try db.documents(withTerm: "beta"), [1, 2])
    }

    func testParsedQueriesUsePrefixesRangesAndWildcards() throws {
        let db = try XapianDatabase(path: try makeDatabase())
        let parser = XapianQueryParser(fields: fields)
        func ids(_ q: String, descending: Bool = false) throws -> [UInt32] {
            try db.search(try parser.parse(q), limit: 10, descending: descending).docids
        }
        XCTAssertEqual(try ids("beta"), [1, 2])
        XCTAssertEqual(try ids("beta", descending: true), [2, 1])
        XCTAssertEqual(try ids("func:tokenize"), [1, 3])
        XCTAssertEqual(try ids("func:tok*"), [1, 3])
        XCTAssertEqual(try ids("file:file1.py"), [2])
        // Blocks are unions of events: negation is left to the per-event check, so at block level
        // "beta NOT gamma" keeps every block that may hold beta.
        XCTAssertEqual(try ids("beta NOT gamma"), [1, 2])
        XCTAssertEqual(try ids("alpha OR delta"), [1, 3])
        XCTAssertEqual(try ids("gam*"), [2])
        // seq:150..210 overlaps the blocks holding 100..199 and 200..299.
        XCTAssertEqual(try ids("seq:150..210"), [2, 3])
        XCTAssertEqual(try ids("seq:..50"), [1])
        // A phrase is relaxed to AND at block level (blocks have no positions).
        XCTAssertEqual(try ids("\"alpha beta\""), [1])
    }

    func testMatchesCanBeOrderedByAValueSlot() throws {
        let db = try XapianDatabase(path: try makeDatabase())
        let parser = XapianQueryParser(fields: fields)
        // Slot 5 holds the function name: main < tokenize.
        let byName = try db.search(try parser.parse("beta OR delta OR alpha"), limit: 10, sortSlot: 5).docids
        XCTAssertEqual(byName.first, 2)
        let reversed = try db.search(try parser.parse("beta OR delta OR alpha"), limit: 10, descending: true, sortSlot: 5).docids
        XCTAssertEqual(reversed.last, 2)
    }

    func testSeveralDatabasesAreSearchedTogether() throws {
        let path = try makeDatabase()
        let db = try XapianDatabase(path: path)
        try db.add(path: path)
        XCTAssertEqual(try db.documentCount(), 6)
    }

    func testFacetCountsWithValueCountMatchSpy() throws {
        let db = try XapianDatabase(path: try makeDatabase())
        let parser = XapianQueryParser(fields: fields)
        let matches = try db.search(try parser.parse("beta OR delta"), limit: 10, facetSlots: [5])
        let counts = Dictionary(uniqueKeysWithValues: matches.facet(slot: 5).map { (String(decoding: $0.value, as: UTF8.self), $0.count) })
        XCTAssertEqual(counts, ["tokenize": 2, "main": 1])
    }

    func testVerifierProgramEncodesTheParsedTree() throws {
        let parser = XapianQueryParser(fields: fields)
        let q = try parser.parse("alpha seq:5..9")
        let program = q.program
        XCTAssertEqual(program.first, 3, "top level is AND")
        XCTAssertTrue(program.contains(10), "holds a range leaf")
        XCTAssertFalse(q.description.isEmpty)
    }

    func testSyntaxErrorsAndLocksAreReportedNotThrownAsCrashes() throws {
        let parser = XapianQueryParser(fields: fields)
        XCTAssertThrowsError(try parser.parse("alpha AND")) { error in
            XCTAssertTrue((error as? XapianError)?.isQuerySyntaxError ?? false, "\(error)")
        }
        XCTAssertThrowsError(try parser.parse("seq:a..b")) { error in
            XCTAssertTrue(String(describing: error).contains("whole numbers"), "\(error)")
        }
        let path = dir + "/locked"
        let first = try WritableXapianDatabase(path: path)
        XCTAssertThrowsError(try WritableXapianDatabase(path: path)) { error in
            XCTAssertTrue((error as? XapianError)?.isLockError ?? false, "\(error)")
        }
        try first.close()
        XCTAssertNoThrow(try WritableXapianDatabase(path: path).close())
        XCTAssertThrowsError(try XapianDatabase(path: dir + "/does-not-exist"))
    }
}
