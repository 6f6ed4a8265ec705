import Foundation
import XCTest
@testable import PodeIndex
@testable import PodeLog
import XapianKit

/// The block indexer's two ways of storing blocks make the same index: in turn (while the
/// program runs) and on a thread of its own while the next blocks are made (a final call).
final class IndexerTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws { dir = try Harness.tempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func testBlocksStoredAlongsideEqualBlocksStoredInTurn() throws {
        // About 25 blocks, committed every 4: several commits either way.
        try Harness.write("""
        def main():
            seen = {}
            for i in range(30000):
                label = "item-%d" % (i % 997)
                seen[i % 31] = label
            return len(seen)

        print(main())

        """, to: "prog.py", in: dir)
        let r = try Harness.pode(["record", "-o", "trace", "prog.py"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let fm = FileManager.default
        func copy(_ name: String) throws -> String {
            let path = dir + "/" + name
            try fm.copyItem(atPath: dir + "/trace", toPath: path)
            try fm.removeItem(atPath: path + "/" + TraceFormat.indexDirectory)
            try fm.removeItem(atPath: path + "/" + TraceFormat.summariesFile)
            return path
        }
        let inTurn = try copy("in-turn"), alongside = try copy("alongside")
        // final: false stores each block in turn and leaves the last partial block out.
        let a = try BlockIndexer(traceDirectory: inTurn, reader: try LogReader(directory: inTurn), blocksPerCommit: 4)
        let indexedInTurn = try a.indexAvailable(final: false)
        try a.close()
        let b = try BlockIndexer(traceDirectory: alongside, reader: try LogReader(directory: alongside), blocksPerCommit: 4)
        let indexedAlongside = try b.indexAvailable(final: true)
        try b.close()

        let dbA = try XapianDatabase(path: inTurn + "/" + TraceFormat.indexDirectory)
        let dbB = try XapianDatabase(path: alongside + "/" + TraceFormat.indexDirectory)
        let blocksA = try dbA.documentCount(), blocksB = try dbB.documentCount()
        XCTAssertGreaterThan(blocksA, 3 * 4, "too few blocks to cross several commits")
        // Unless the log ends on a block's end, a final call also adds the last partial block.
        XCTAssertEqual(blocksB, blocksA + (indexedAlongside > indexedInTurn ? 1 : 0))
        XCTAssertGreaterThanOrEqual(indexedInTurn, blocksA * Schema.blockEvents)
        for id in 1...UInt32(blocksA) {
            // The data says where the block's events and its summary are: equal data, in the
            // same order, means the same blocks, stored in log order.
            XCTAssertEqual(try dbA.document(id).data, try dbB.document(id).data, "block \(id)")
            XCTAssertEqual(try dbA.document(id).termCount, try dbB.document(id).termCount, "block \(id)")
        }
        let last = try XCTUnwrap(BlockLocation(encoded: try dbB.document(UInt32(blocksB)).data))
        XCTAssertEqual(Int(last.lastSeq), indexedAlongside, "every event is in a block")
        XCTAssertEqual(try dbB.metadata(Schema.Metadata.indexedUpTo), String(last.end))
        let summariesA = try Data(contentsOf: URL(fileURLWithPath: inTurn + "/" + TraceFormat.summariesFile))
        let summariesB = try Data(contentsOf: URL(fileURLWithPath: alongside + "/" + TraceFormat.summariesFile))
        XCTAssertFalse(summariesA.isEmpty)
        XCTAssertEqual(summariesB.prefix(summariesA.count), summariesA)
        // And search reads it as it reads the recording's own index.
        for q in ["item-5", "var:label", "func:main"] {
            let want = try Harness.pode(["search", "--trace", "trace", "--count", q], in: dir)
            let got = try Harness.pode(["search", "--trace", "alongside", "--count", q], in: dir)
            XCTAssertEqual(got.stdout, want.stdout, q)
            XCTAssertEqual(got.status, 0, got.stderr)
        }
    }
}
