import Foundation
import XCTest
@testable import PodeLog

/// events.log frames as written and read back: compressed when that pays, raw otherwise, and a
/// damaged frame ends the readable log (it is never decoded into wrong bytes).
final class LogTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws { dir = try Harness.tempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Payloads: one that compresses (repeated text), one that does not (random bytes), a tiny one.
    func payloads() -> [[UInt8]] {
        var random = SystemRandomNumberGenerator()
        let repeated = Array(String(repeating: "'needle' <app.Node object at 0x7f00> {x=3, y=4} ", count: 300).utf8)
        let noise = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &random) }
        return [repeated, noise, [1, 2, 3]]
    }

    func write(_ frames: [[UInt8]]) throws -> [(offset: Int, magic: UInt32, stored: Int)] {
        let writer = try LogWriter(directory: dir)
        var layout: [(Int, UInt32, Int)] = []
        for (i, p) in frames.enumerated() {
            let offset = writer.eventsEnd
            try p.withUnsafeBytes { try writer.appendFrame($0, baseSeq: UInt64(100 * i), baseTime: UInt64(7 * i)) }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/events.log"))
            let magic = bytes.subdata(in: offset..<offset + 4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            layout.append((offset, magic, writer.eventsEnd - offset - TraceFormat.frameHeaderSize))
        }
        writer.close()
        return layout
    }

    func read() throws -> [LogFrame] {
        var got: [LogFrame] = []
        try LogReader(directory: dir).forEachFrame(from: LogReader.firstFrameOffset) { got.append($0); return true }
        return got
    }

    func testFramesReadBackAsWrittenCompressedWhenThatPays() throws {
        let frames = payloads()
        let layout = try write(frames)
        XCTAssertEqual(layout[0].magic, TraceFormat.compressedFrameMagic, "repeated text is stored compressed")
        XCTAssertLessThan(layout[0].stored, frames[0].count / 4)
        XCTAssertEqual(layout[1].magic, TraceFormat.frameMagic, "random bytes are stored as they are")
        XCTAssertEqual(layout[1].stored, frames[1].count)
        XCTAssertEqual(layout[2].magic, TraceFormat.frameMagic)
        let got = try read()
        XCTAssertEqual(got.map(\.payload), frames)
        XCTAssertEqual(got.map(\.baseSeq), [0, 100, 200])
        XCTAssertEqual(got.map(\.baseTime), [0, 7, 14])
        XCTAssertEqual(got.map(\.offset), layout.map(\.offset))
    }

    func testADamagedCompressedFrameEndsTheLog() throws {
        let frames = payloads()
        let layout = try write([frames[0], frames[0], frames[1]])
        XCTAssertEqual(layout[1].magic, TraceFormat.compressedFrameMagic)
        let log = try FileHandle(forUpdating: URL(fileURLWithPath: dir + "/events.log"))
        // The second frame's stated length, inside its (checksummed) stored payload.
        try log.seek(toOffset: UInt64(layout[1].offset + TraceFormat.frameHeaderSize))
        log.write(Data([0xFF, 0xFF, 0x00, 0x00]))
        try log.close()
        XCTAssertEqual(try read().map(\.payload), [frames[0]], "reading stops at the damaged frame")
    }

    func testAFrameWhoseBlockDoesNotDecodeToItsLengthIsRefused() throws {
        var stored: [UInt8] = []
        let payload = payloads()[0]
        XCTAssertTrue(payload.withUnsafeBytes { FrameCodec.compress($0, appendingTo: &stored) })
        XCTAssertEqual(stored.withUnsafeBytes { FrameCodec.decompress($0) }, payload)
        var longer = stored
        longer.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(payload.count + 1).littleEndian, as: UInt32.self) }
        XCTAssertNil(longer.withUnsafeBytes { FrameCodec.decompress($0) })
        XCTAssertNil(Array(stored.prefix(stored.count / 2)).withUnsafeBytes { FrameCodec.decompress($0) })
    }

    func testFormatTwoLogsAreStillRead() throws {
        let frames = payloads()
        _ = try write([frames[1]])
        for name in ["events.log", "defs.log"] {
            let file = try FileHandle(forUpdating: URL(fileURLWithPath: dir + "/" + name))
            try file.seek(toOffset: 8)
            file.write(Data([2, 0, 0, 0]))
            try file.close()
        }
        XCTAssertEqual(try read().map(\.payload), [frames[1]])
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: dir + "/events.log"))
        try file.seek(toOffset: 8)
        file.write(Data([1, 0, 0, 0]))
        try file.close()
        XCTAssertThrowsError(try LogReader(directory: dir)) { XCTAssertTrue("\($0)".contains("older pode"), "\($0)") }
    }
}
