import PodeIndex
import PodeLog
import XapianKit

/// The run in time order: finds the stretch of the log that holds an event by its number and
/// walks events forwards and backwards, over indexed blocks and the part not indexed yet alike.
/// Costs a binary search over block documents, never a scan of the log.
public final class Timeline {
    /// A stretch of events.log: one block document, or one frame of the unindexed tail.
    public struct Segment: Sendable {
        public var offset: Int
        public var end: Int
        public var firstSeq: UInt64
        /// For a block: its last event number and where its summary is (see BlockSummary).
        public var lastSeq: UInt64 = 0
        public var summary: Range<Int>? = nil
    }

    let reader: LogReader
    private let database: XapianDatabase?
    /// Block documents are docids 1...indexedBlocks, added in log order.
    let indexedBlocks: Int
    private var tail: [Segment] = []
    private var blockSegments: [Int: Segment] = [:]
    /// Recently decoded segments, newest last (a walk goes back and forth over a few).
    private var decoded: [(index: Int, events: [Event])] = []
    private static let decodedLimit = 8

    init(reader: LogReader, database: XapianDatabase?, indexedUpTo: Int, logEnd: Int) throws {
        self.reader = reader
        self.database = database
        var blocks = 0
        if let database, indexedUpTo > LogReader.firstFrameOffset {
            blocks = Int(try database.lastDocid())
            // Only documents of the committed, indexed part count (a newer one is ignored).
            while blocks > 0, let last = try? Self.location(database, UInt32(blocks)), last.end > indexedUpTo { blocks -= 1 }
        }
        indexedBlocks = blocks
        try reader.forEachFrame(from: indexedUpTo, to: logEnd) { frame in
            tail.append(Segment(offset: frame.offset, end: frame.end, firstSeq: frame.baseSeq))
            return true
        }
    }

    static func location(_ database: XapianDatabase, _ docid: UInt32) throws -> BlockLocation {
        guard let location = BlockLocation(encoded: try database.document(docid).data) else {
            throw QueryError.internalError("block document \(docid) has no location")
        }
        return location
    }

    /// How many segments the log has.
    public var segmentCount: Int { indexedBlocks + tail.count }

    /// The segment that block document `docid` describes.
    func segmentIndex(ofDocid docid: UInt32) -> Int { Int(docid) - 1 }

    func segment(_ index: Int) throws -> Segment {
        if index >= indexedBlocks { return tail[index - indexedBlocks] }
        if let s = blockSegments[index] { return s }
        guard let database else { throw QueryError.internalError("no index for block \(index)") }
        let l = try Self.location(database, UInt32(index + 1))
        let s = Segment(offset: l.offset, end: l.end, firstSeq: l.firstSeq, lastSeq: l.lastSeq, summary: l.summary)
        blockSegments[index] = s
        return s
    }

    /// The segment holding event `seq` (the last one starting at or before it).
    func segmentIndex(containing seq: UInt64) throws -> Int? {
        var lo = 0, hi = segmentCount - 1
        guard hi >= 0, try segment(0).firstSeq <= seq else { return nil }
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if try segment(mid).firstSeq <= seq { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// The first event number of the block (or tail frame) that holds event `seq`.
    public func segmentStart(containing seq: UInt64) throws -> UInt64? {
        try segmentIndex(containing: seq).map { try segment($0).firstSeq }
    }

    /// The events of segment `index`, in order; with `framesHolding`, those of its frames
    /// whose payload holds those bytes (see LogReader.events(from:to:framesHolding:)), or all
    /// of them when the segment is at hand already. Only whole segments are kept.
    func events(inSegment index: Int, framesHolding bytes: [UInt8]? = nil) throws -> [Event] {
        if let i = decoded.firstIndex(where: { $0.index == index }) {
            let hit = decoded.remove(at: i)
            decoded.append(hit)
            return hit.events
        }
        let s = try segment(index)
        let events = try reader.events(from: s.offset, to: s.end, framesHolding: bytes)
        if bytes != nil { return events }
        if decoded.count >= Self.decodedLimit { decoded.removeFirst() }
        decoded.append((index, events))
        return events
    }

    /// Event number `seq`, or nil when the trace has no such event.
    public func event(_ seq: UInt64) throws -> Event? {
        guard let i = try segmentIndex(containing: seq) else { return nil }
        let events = try events(inSegment: i)
        return Self.find(seq, in: events).map { events[$0] }
    }

    static func find(_ seq: UInt64, in events: [Event]) -> Int? {
        var lo = 0, hi = events.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if events[mid].seq < seq { lo = mid + 1 } else { hi = mid }
        }
        return lo < events.count && events[lo].seq == seq ? lo : nil
    }

    /// The first and last event of the trace.
    public func firstEvent() throws -> Event? {
        guard segmentCount > 0 else { return nil }
        return try events(inSegment: 0).first
    }

    public func lastEvent() throws -> Event? {
        var i = segmentCount - 1
        while i >= 0 {
            if let e = try events(inSegment: i).last { return e }
            i -= 1
        }
        return nil
    }

    /// Calls `body` with the events after `seq` (or from it, with `including`) in time order, or
    /// before it newest first when not `forward`, until `body` returns false.
    public func walk(from seq: UInt64, forward: Bool, including: Bool = false, _ body: (Event) throws -> Bool) throws {
        guard var index = try segmentIndex(containing: seq) ?? (forward ? 0 : nil) else { return }
        var first = true
        while index >= 0 && index < segmentCount {
            let events = try events(inSegment: index)
            if forward {
                var i = 0
                if first {
                    while i < events.count && (events[i].seq < seq || (!including && events[i].seq == seq)) { i += 1 }
                }
                while i < events.count {
                    if try !body(events[i]) { return }
                    i += 1
                }
                index += 1
            } else {
                var i = events.count - 1
                if first {
                    while i >= 0 && (events[i].seq > seq || (!including && events[i].seq == seq)) { i -= 1 }
                }
                while i >= 0 {
                    if try !body(events[i]) { return }
                    i -= 1
                }
                index -= 1
            }
            first = false
        }
    }
}
