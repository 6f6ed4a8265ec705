#if canImport(Glibc)
import Glibc
#endif

/// One frame of events.log.
public struct LogFrame: Sendable {
    /// Where the frame starts in the file, and where the next one starts.
    public var offset: Int
    public var end: Int
    public var baseSeq: UInt64
    public var baseTime: UInt64
    public var payload: [UInt8]

    public func events() throws -> [Event] {
        var out: [Event] = []
        try payload.withUnsafeBytes { try EventDecoder.decode($0, baseSeq: baseSeq, baseTime: baseTime, into: &out) }
        return out
    }
}

/// Reads a trace's logs. Safe while a recorder is still appending: it reads whole frames only
/// and stops at a frame that is not complete (or is damaged) yet.
public final class LogReader {
    public let directory: String
    private let events: RawFile
    private let definitionsFile: RawFile

    public init(directory: String) throws {
        self.directory = directory
        events = try RawFile(path: directory + "/" + TraceFormat.eventsFile, flags: O_RDONLY)
        definitionsFile = try RawFile(path: directory + "/" + TraceFormat.definitionsFile, flags: O_RDONLY)
        try checkFileHeader(try events.read(at: 0, count: TraceFormat.fileHeaderSize), path: events.path)
        try checkFileHeader(try definitionsFile.read(at: 0, count: TraceFormat.fileHeaderSize), path: definitionsFile.path)
    }

    /// Where the first frame starts.
    public static var firstFrameOffset: Int { TraceFormat.fileHeaderSize }

    /// Current size of events.log.
    public func eventsSize() throws -> Int { try events.size() }

    /// All definitions written so far (a record cut short at the end is left for later).
    public func definitions() throws -> Definitions {
        let bytes = try definitionsFile.read(at: TraceFormat.fileHeaderSize, count: max(0, try definitionsFile.size() - TraceFormat.fileHeaderSize))
        var defs = Definitions()
        try bytes.withUnsafeBytes { raw in
            var at = 0
            while at + TraceFormat.recordHeaderSize <= raw.count {
                let len = Int(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
                let sum = raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self).littleEndian
                let start = at + TraceFormat.recordHeaderSize
                guard start + len <= raw.count else { break }
                let record = UnsafeRawBufferPointer(rebasing: raw[start..<start + len])
                guard podeChecksum(record) == sum else { break }
                try defs.add(records: record)
                at = start + len
            }
        }
        return defs
    }

    /// Calls `body` with each complete frame from `offset` up to `end` (or the current end of the
    /// file), in order; `body` returns false to stop. Returns the offset after the last frame read.
    @discardableResult
    public func forEachFrame(from offset: Int, to end: Int? = nil, _ body: (LogFrame) throws -> Bool) throws -> Int {
        let limit = try end ?? eventsSize()
        var at = offset
        let chunk = 4 << 20
        var buffer: [UInt8] = []
        var bufferStart = at
        while at < limit {
            // Make sure the header is in the buffer.
            if at + TraceFormat.frameHeaderSize > bufferStart + buffer.count {
                buffer = try events.read(at: at, count: min(chunk, limit - at))
                bufferStart = at
                if buffer.count < TraceFormat.frameHeaderSize { break }
            }
            let h = at - bufferStart
            let (magic, len, baseSeq, baseTime, sum) = buffer.withUnsafeBytes { raw in
                (raw.loadUnaligned(fromByteOffset: h, as: UInt32.self).littleEndian,
                 Int(raw.loadUnaligned(fromByteOffset: h + 4, as: UInt32.self).littleEndian),
                 raw.loadUnaligned(fromByteOffset: h + 8, as: UInt64.self).littleEndian,
                 raw.loadUnaligned(fromByteOffset: h + 16, as: UInt64.self).littleEndian,
                 raw.loadUnaligned(fromByteOffset: h + 24, as: UInt32.self).littleEndian)
            }
            let compressed = magic == TraceFormat.compressedFrameMagic
            guard magic == TraceFormat.frameMagic || compressed, len <= TraceFormat.maxFramePayload else { break }
            let frameEnd = at + TraceFormat.frameHeaderSize + len
            guard frameEnd <= limit else { break }
            if frameEnd > bufferStart + buffer.count {
                buffer = try events.read(at: at, count: max(chunk, frameEnd - at))
                bufferStart = at
                if at + TraceFormat.frameHeaderSize + len > bufferStart + buffer.count { break }
            }
            let p = at - bufferStart + TraceFormat.frameHeaderSize
            let decoded = buffer.withUnsafeBytes { raw -> [UInt8]? in
                let stored = UnsafeRawBufferPointer(rebasing: raw[p..<p + len])
                guard podeChecksum(stored) == sum else { return nil }
                return compressed ? FrameCodec.decompress(stored) : Array(stored)
            }
            guard let payload = decoded else { break }
            at = frameEnd
            if try !body(LogFrame(offset: frameEnd - len - TraceFormat.frameHeaderSize, end: frameEnd, baseSeq: baseSeq, baseTime: baseTime, payload: payload)) {
                break
            }
        }
        return at
    }

    /// All events of the frames in `offset..<end`; with `framesHolding`, only those of the
    /// frames whose payload holds those bytes somewhere (the others are not decoded).
    public func events(from offset: Int, to end: Int, framesHolding bytes: [UInt8]? = nil) throws -> [Event] {
        var out: [Event] = []
        try forEachFrame(from: offset, to: end) { frame in
            try frame.payload.withUnsafeBytes { payload in
                if let bytes, !Self.holds(payload, bytes) { return }
                try EventDecoder.decode(payload, baseSeq: frame.baseSeq, baseTime: frame.baseTime, into: &out)
            }
            return true
        }
        return out
    }

    /// Whether `bytes` occur in `payload`: memchr finds each place the first byte is, memcmp
    /// looks at the rest (a frame is tens of KiB, and this is all a scan does for most frames).
    static func holds(_ payload: UnsafeRawBufferPointer, _ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first else { return true }
        guard let base = payload.baseAddress, payload.count >= bytes.count else { return false }
        return bytes.withUnsafeBytes { needle in
            let last = base + (payload.count - bytes.count)  // the last place a match can start
            var at = base
            while at <= last {
                guard let found = memchr(at, Int32(first), last - at + 1) else { return false }
                if memcmp(found, needle.baseAddress!, bytes.count) == 0 { return true }
                at = UnsafeRawPointer(found) + 1
            }
            return false
        }
    }
}
