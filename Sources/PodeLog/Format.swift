/// The on-disk trace format: one place that names every file and number in it
/// (docs/trace-format.md describes the same).
public enum TraceFormat {
    /// Bumped on every incompatible change; checked when a trace is opened.
    public static let version: UInt32 = 3
    /// The oldest format this pode still reads (version 2 traces have raw frames only).
    public static let oldestReadableVersion: UInt32 = 2
    public static let eventsFile = "events.log"
    public static let definitionsFile = "defs.log"
    public static let metadataFile = "trace.json"
    public static let indexDirectory = "index"
    /// Per-block summaries for counts and facets, part of the index (see docs/schema.md).
    public static let summariesFile = "summaries.bin"
    public static let sourcesDirectory = "sources"
    public static let lockFile = "writer.lock"
    /// Forked children's parts of the trace: processes/PID, each laid out as a trace itself.
    public static let processesDirectory = "processes"
    /// Space the recorder sets aside at the start and frees at the end, so that the last
    /// trace.json can still be written when the program filled the disk.
    public static let reserveFile = "reserved-space"
    public static let reserveBytes = 256 << 10

    /// Every log file starts with these 8 bytes, then the format version (UInt32 LE) and 4 zero bytes.
    static let fileMagic: [UInt8] = Array("PODELOG\u{0}".utf8)
    static let fileHeaderSize = 16
    /// Each frame of events.log starts with this UInt32 (LE "PDF1").
    static let frameMagic: UInt32 = 0x3146_4450
    /// A frame whose payload is LZ4-compressed (LE "PDL1"; see FrameCodec).
    static let compressedFrameMagic: UInt32 = 0x314C_4450
    /// magic, stored payload length, base seq, base time, checksum of the stored payload.
    static let frameHeaderSize = 4 + 4 + 8 + 8 + 4
    /// Each record of defs.log: length, checksum, payload.
    static let recordHeaderSize = 8
    static let maxFramePayload = 16 << 20
}

/// What happened at an event.
public enum EventKind: UInt8, CaseIterable, Sendable {
    case call = 1, line = 2, `return` = 3, exception = 4, yield = 5, resume = 6

    public var name: String {
        switch self {
        case .call: "call"
        case .line: "line"
        case .return: "return"
        case .exception: "exception"
        case .yield: "yield"
        case .resume: "resume"
        }
    }

    public init?(name: String) {
        guard let k = EventKind.allCases.first(where: { $0.name == name }) else { return nil }
        self = k
    }
}

/// Reserved variable-name ids: what a value is when it is not a variable.
public enum ValueName {
    public static let returnValue: UInt32 = 0
    public static let exception: UInt32 = 1
    public static let yieldValue: UInt32 = 2
    /// The first id of a real variable name.
    public static let firstName: UInt32 = 3
}

/// Flags on a recorded value (the recorder's PODE_VALUE_* numbers).
public struct ValueFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let truncated = ValueFlags(rawValue: 1)
    public static let deleted = ValueFlags(rawValue: 2)
    public static let rebound = ValueFlags(rawValue: 4)
    public static let mutated = ValueFlags(rawValue: 8)
}

/// A 64-bit checksum over bytes (frames and records), fast enough for the writer thread.
public func podeChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
    var i = 0
    let n = bytes.count
    while i + 8 <= n {
        let w = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 29
        i += 8
    }
    while i < n {
        h = (h ^ UInt64(bytes[i])) &* 0xC4CE_B9FE_1A85_EC53
        i += 1
    }
    h ^= h >> 32
    return UInt32(truncatingIfNeeded: h)
}
