import PodeLog
import XapianKit

/// Where a block document's events are in events.log.
public struct BlockLocation: Sendable, Equatable {
    public var offset: Int
    public var end: Int
    public var eventCount: Int
    public var firstSeq: UInt64
    public var lastSeq: UInt64

    public init(offset: Int, end: Int, eventCount: Int, firstSeq: UInt64, lastSeq: UInt64) {
        self.offset = offset
        self.end = end
        self.eventCount = eventCount
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        for v in [UInt64(offset), UInt64(end), UInt64(eventCount), firstSeq, lastSeq] { Varint.append(v, to: &out) }
        return out
    }

    public init?(encoded: [UInt8]) {
        var at = 0
        guard let o = Varint.read(encoded, &at), let e = Varint.read(encoded, &at), let c = Varint.read(encoded, &at),
              let f = Varint.read(encoded, &at), let l = Varint.read(encoded, &at) else { return nil }
        self.init(offset: Int(o), end: Int(e), eventCount: Int(c), firstSeq: f, lastSeq: l)
    }
}

/// Xapian's sortable encoding of a number (as Xapian::sortable_serialise), for value slots.
public func sortableSerialise(_ value: UInt64) -> [UInt8] {
    XapianSortable.serialise(Double(value))
}

/// Turns events.log into block documents: reads the frames after the last indexed one and
/// adds a document per block of about `Schema.blockEvents` events.
public final class BlockIndexer {
    private let database: WritableXapianDatabase
    private let reader: LogReader
    public private(set) var indexedUpTo: Int
    public private(set) var blocks = 0

    /// Opens (or creates) the index of the trace in `directory`. Throws XapianError with
    /// `isLockError` when another process is indexing it.
    public init(traceDirectory directory: String, reader: LogReader) throws {
        database = try WritableXapianDatabase(path: directory + "/" + TraceFormat.indexDirectory)
        self.reader = reader
        let existing = try XapianDatabase(path: directory + "/" + TraceFormat.indexDirectory)
        indexedUpTo = Int(try existing.metadata(Schema.Metadata.indexedUpTo) ?? "") ?? LogReader.firstFrameOffset
        try database.setMetadata(Schema.Metadata.formatVersion, String(TraceFormat.version))
    }

    /// Indexes whole blocks of what the log holds now; with `final`, the last partial block too.
    /// Commits when anything was added. Returns the number of events indexed.
    @discardableResult
    public func indexAvailable(final: Bool) throws -> Int {
        var pending: [LogFrame] = []
        var pendingEvents: [Event] = []
        var indexed = 0
        var definitions: Definitions? = nil
        func flush() throws {
            guard let first = pending.first, let last = pending.last, !pendingEvents.isEmpty else { return }
            if definitions == nil { definitions = try reader.definitions() }
            try addBlock(pendingEvents, location: BlockLocation(offset: first.offset, end: last.end, eventCount: pendingEvents.count,
                                                                 firstSeq: pendingEvents.first!.seq, lastSeq: pendingEvents.last!.seq),
                         definitions: definitions!)
            indexed += pendingEvents.count
            indexedUpTo = last.end
            pending.removeAll()
            pendingEvents.removeAll(keepingCapacity: true)
        }
        try reader.forEachFrame(from: indexedUpTo) { frame in
            pending.append(frame)
            try frame.payload.withUnsafeBytes {
                try EventDecoder.decode($0, baseSeq: frame.baseSeq, baseTime: frame.baseTime, into: &pendingEvents)
            }
            if pendingEvents.count >= Schema.blockEvents { try flush() }
            return true
        }
        if final { try flush() }
        if indexed > 0 {
            try database.setMetadata(Schema.Metadata.indexedUpTo, String(indexedUpTo))
            try database.commit()
        }
        return indexed
    }

    private func addBlock(_ events: [Event], location: BlockLocation, definitions: Definitions) throws {
        let terms = Schema.blockTerms(of: events, definitions: definitions)
        var minLine = UInt32.max, maxLine: UInt32 = 0
        for e in events {
            minLine = min(minLine, e.line, e.values.isEmpty ? e.line : e.valueLine)
            maxLine = max(maxLine, e.line, e.valueLine)
        }
        let doc = XapianDocument()
        for t in terms { doc.addTerm(t) }
        doc.setValue(Schema.Slot.firstSeq, sortableSerialise(location.firstSeq))
        doc.setValue(Schema.Slot.lastSeq, sortableSerialise(location.lastSeq))
        doc.setValue(Schema.Slot.minLine, sortableSerialise(UInt64(minLine)))
        doc.setValue(Schema.Slot.maxLine, sortableSerialise(UInt64(maxLine)))
        doc.setData(location.encoded)
        try database.add(doc)
        blocks += 1
    }

    public func close() throws { try database.close() }
}
