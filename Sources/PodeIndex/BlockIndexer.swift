#if canImport(Glibc)
import Glibc
#endif
import PodeLog
import XapianKit

/// Where a block document's events are in events.log.
public struct BlockLocation: Sendable, Equatable {
    public var offset: Int
    public var end: Int
    public var eventCount: Int
    public var firstSeq: UInt64
    public var lastSeq: UInt64
    /// Where the block's summary is in summaries.bin (nil: the block has none).
    public var summary: Range<Int>?

    public init(offset: Int, end: Int, eventCount: Int, firstSeq: UInt64, lastSeq: UInt64, summary: Range<Int>? = nil) {
        self.offset = offset
        self.end = end
        self.eventCount = eventCount
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.summary = summary
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        for v in [UInt64(offset), UInt64(end), UInt64(eventCount), firstSeq, lastSeq] { Varint.append(v, to: &out) }
        if let summary {
            Varint.append(UInt64(summary.lowerBound), to: &out)
            Varint.append(UInt64(summary.count), to: &out)
        }
        return out
    }

    public init?(encoded: [UInt8]) {
        var at = 0
        // Xapian keeps no checksum of document data: damaged numbers must fail here, not trap.
        guard let o = Varint.read(encoded, &at).flatMap(Int.init(exactly:)), let e = Varint.read(encoded, &at).flatMap(Int.init(exactly:)),
              let c = Varint.read(encoded, &at).flatMap(Int.init(exactly:)),
              let f = Varint.read(encoded, &at), let l = Varint.read(encoded, &at), o <= e else { return nil }
        var summary: Range<Int>? = nil
        if let start = Varint.read(encoded, &at), let count = Varint.read(encoded, &at), start < UInt64(Int.max / 2), count < UInt64(Int.max / 2) {
            summary = Int(start)..<Int(start + count)
        }
        self.init(offset: o, end: e, eventCount: c, firstSeq: f, lastSeq: l, summary: summary)
    }
}

/// Xapian's sortable encoding of a number (as Xapian::sortable_serialise), for value slots.
public func sortableSerialise(_ value: UInt64) -> [UInt8] {
    XapianSortable.serialise(Double(value))
}

/// Turns events.log into block documents: reads the frames after the last indexed one and
/// adds a document per block of about `Schema.blockEvents` events.
public final class BlockIndexer {
    // While a StorePipeline runs, only its thread touches the database, the summaries file and
    // the counts below (indexedUpTo, blocks, uncommitted); the caller waits for it to end.
    private let database: WritableXapianDatabase
    private let reader: LogReader
    private let summaries: RawFile
    private var summariesSize: Int
    public private(set) var indexedUpTo: Int
    public private(set) var blocks = 0

    /// Opens (or creates) the index of the trace in `directory`. Throws XapianError with
    /// `isLockError` when another process is indexing it.
    public init(traceDirectory directory: String, reader: LogReader, blocksPerCommit: Int = BlockIndexer.defaultBlocksPerCommit) throws {
        self.blocksPerCommit = max(1, blocksPerCommit)
        // Owner only, like the rest of the trace (Xapian's files inside follow the umask).
        _ = mkdir(directory + "/" + TraceFormat.indexDirectory, 0o700)
        // Commits do not wait for the disk: the log is the truth and the index follows it.
        database = try WritableXapianDatabase(path: directory + "/" + TraceFormat.indexDirectory, synced: false)
        self.reader = reader
        // Summaries are appended before the documents that point at them are committed; bytes
        // of a run that stopped before its commit are never pointed at.
        summaries = try RawFile(path: directory + "/" + TraceFormat.summariesFile, flags: O_WRONLY | O_CREAT | O_APPEND)
        summariesSize = try summaries.size()
        let existing = try XapianDatabase(path: directory + "/" + TraceFormat.indexDirectory)
        indexedUpTo = Int(try existing.metadata(Schema.Metadata.indexedUpTo) ?? "") ?? LogReader.firstFrameOffset
        if try existing.documentCount() > 0, try existing.metadata(Schema.Metadata.formatVersion) != Schema.indexFormat {
            try? database.close()
            throw LogFormatError("the index of \(directory) was made by an older pode; run 'pode index --rebuild --trace \(directory)' to make it again")
        }
        try database.setMetadata(Schema.Metadata.formatVersion, Schema.indexFormat)
    }

    /// Blocks between commits: bounds the memory Xapian holds for uncommitted postings.
    public static let defaultBlocksPerCommit = 64
    private let blocksPerCommit: Int

    /// Indexes what the log of the trace at `traceDirectory` holds past its index, to the end,
    /// and closes the index; returns the events added.
    public static func complete(traceDirectory: String) throws -> Int {
        let indexer = try BlockIndexer(traceDirectory: traceDirectory, reader: try LogReader(directory: traceDirectory))
        let added = try indexer.indexAvailable(final: true)
        try indexer.close()
        if added > 0 { IndexCompaction.compactIfSmall(traceDirectory: traceDirectory) }
        return added
    }

    @discardableResult
    /// Indexes whole blocks of what the log holds now; with `final`, the last partial block too.
    /// Commits every `blocksPerCommit` blocks and at the end when anything was added; calls
    /// `progress` with the events of each block added. Returns the number of events indexed.
    /// `shouldStop` is asked before each frame: when it says so, indexing ends at once, and
    /// what was not committed yet is left for a later indexer (its documents are never seen).
    ///
    /// Once `storeAlongside` says so (asked before each block; by default, in a `final` call),
    /// each block is stored on a thread of its own while the next ones are read and made (see
    /// StorePipeline): when the program has ended, a second core shortens the wait until the
    /// trace is searchable. Until then the indexer shares a core with the program, and stores
    /// each block in turn.
    public func indexAvailable(final: Bool, shouldStop: () -> Bool = { false }, storeAlongside: (() -> Bool)? = nil,
                               progress: (Int) -> Void = { _ in }) throws -> Int {
        var facts = BlockFacts(summarized: true)
        var blockStart: Int? = nil
        var blockEnd = 0
        var indexed = 0
        var definitions: Definitions? = nil
        var pipeline: StorePipeline? = nil
        defer { pipeline?.abandon() }
        func flush() throws {
            guard let start = blockStart, !facts.isEmpty else { return }
            // Definitions are written before the frames that use them: read them again when
            // this block names something newer than the copy in hand.
            if definitions == nil || !definitions!.covers(facts) { definitions = try reader.definitions() }
            let block = PreparedBlock(facts: facts, textTerms: Schema.textTerms(of: facts, definitions: definitions!),
                                      location: BlockLocation(offset: start, end: blockEnd, eventCount: facts.eventCount,
                                                              firstSeq: facts.firstSeq, lastSeq: facts.lastSeq),
                                      definitions: definitions!)
            if pipeline == nil && (storeAlongside?() ?? final) { pipeline = StorePipeline(store: { [unowned self] in try self.store($0) }) }
            if let pipeline { try pipeline.put(block) } else { try store(block) }
            indexed += facts.eventCount
            progress(facts.eventCount)
            blockStart = nil
            facts.removeAll()
        }
        var stopped = false
        try reader.forEachFrame(from: indexedUpTo) { frame in
            if shouldStop() { stopped = true; return false }
            if blockStart == nil { blockStart = frame.offset }
            blockEnd = frame.end
            try frame.payload.withUnsafeBytes { try facts.add(payload: $0, baseSeq: frame.baseSeq, baseTime: frame.baseTime) }
            if facts.eventCount >= Schema.blockEvents { try flush() }
            return true
        }
        if stopped { return indexed }
        if final { try flush() }
        try pipeline?.finish()
        if uncommitted > 0 { try commit() }
        return indexed
    }

    /// Blocks added since the last commit.
    private var uncommitted = 0

    private func commit() throws {
        try database.setMetadata(Schema.Metadata.indexedUpTo, String(indexedUpTo))
        try database.commit()
        uncommitted = 0
    }

    /// A block read and split: its facts and the terms of its texts. Storing it makes its
    /// summary and document; with a StorePipeline that happens on the pipeline's thread, which
    /// then takes about half of the work (the summary costs about as much as splitting texts).
    struct PreparedBlock {
        var facts: BlockFacts
        var textTerms: Schema.TextTerms
        var location: BlockLocation
        var definitions: Definitions
    }

    /// A block's document, all but its data (which says where the summary went, known once it
    /// is written).
    private static func document(of block: PreparedBlock) -> XapianDocument {
        let doc = XapianDocument()
        doc.addTerms(Schema.documentTerms(of: block.facts, textTerms: block.textTerms, definitions: block.definitions))
        doc.setValue(Schema.Slot.firstSeq, sortableSerialise(block.location.firstSeq))
        doc.setValue(Schema.Slot.lastSeq, sortableSerialise(block.location.lastSeq))
        doc.setValue(Schema.Slot.minLine, sortableSerialise(UInt64(block.facts.minLine)))
        doc.setValue(Schema.Slot.maxLine, sortableSerialise(UInt64(block.facts.maxLine)))
        return doc
    }

    /// Makes a prepared block's summary and document, writes the summary and adds the
    /// document, in log order; commits every `blocksPerCommit` blocks.
    private func store(_ block: PreparedBlock) throws {
        var location = block.location
        let document = Self.document(of: block)
        if let summary = BlockSummary.encode(block.facts, textTerms: block.textTerms) {
            try summaries.write(summary)
            location.summary = summariesSize..<summariesSize + summary.count
            summariesSize += summary.count
        }
        document.setData(location.encoded)
        try database.add(document)
        blocks += 1
        indexedUpTo = location.end
        uncommitted += 1
        if uncommitted >= blocksPerCommit { try commit() }
    }

    public func close() throws {
        summaries.close()
        try database.close()
    }
}
