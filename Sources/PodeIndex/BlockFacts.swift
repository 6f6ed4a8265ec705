#if canImport(Glibc)
import Glibc
#endif
import PodeLog

/// The distinct facts of one block of events: places, kinds, threads, names, types and value
/// texts, each kept once. Filled straight from frame payloads (no per-event objects), so that
/// terms are made once per distinct fact rather than once per event (see Schema.terms(of:)).
public struct BlockFacts {
    public private(set) var eventCount = 0
    public private(set) var firstSeq: UInt64 = 0
    public private(set) var lastSeq: UInt64 = 0
    public private(set) var minLine = UInt32.max
    public private(set) var maxLine: UInt32 = 0
    var kinds: UInt8 = 0
    var threads = DenseIDSet()
    var codes = DenseIDSet()
    var names = DenseIDSet()
    var types = DenseIDSet()
    var texts = TextSet()
    /// Each distinct event class, as the bytes of UInt32s: its shape (kind, thread, code, line,
    /// value line, value count n, then each value's name, type and whether it was deleted), then
    /// the text entry of each value (`noText` for a deleted one); and how many events of the
    /// block have it. BlockSummary finds the shapes from the classes.
    var classes = TextSet()
    var classCounts: [Int] = []
    static let noText = UInt32.max
    /// Whether shapes and classes are kept (for BlockSummary).
    let summarized: Bool

    public init(summarized: Bool = false) { self.summarized = summarized }

    public var isEmpty: Bool { eventCount == 0 }

    /// Adds every event of one frame payload.
    public mutating func add(payload: UnsafeRawBufferPointer, baseSeq: UInt64, baseTime: UInt64) throws {
        var open = OpenEvent()
        defer { open.deallocate() }
        try EventDecoder.scan(payload, baseSeq: baseSeq, baseTime: baseTime, event: { h, n in
            closeEvent(&open)
            addPlace(h, valueCount: n, &open)
        }, value: { v in
            addValue(name: v.name, type: v.type, flags: v.flags, text: v.text, &open)
        })
        closeEvent(&open)
    }

    /// Adds one decoded event (the same facts as the payload path).
    public mutating func add(_ e: Event) {
        var open = OpenEvent()
        defer { open.deallocate() }
        var h = EventHeader(seq: e.seq, time: e.time, kind: e.kind)
        h.thread = e.thread
        h.code = e.code
        h.line = e.line
        h.valueLine = e.valueLine
        addPlace(h, valueCount: e.values.count, &open)
        for v in e.values {
            var text = v.text
            text.withUTF8 { addValue(name: v.name, type: v.type, flags: v.flags, text: UnsafeRawBufferPointer($0), &open) }
        }
        closeEvent(&open)
    }

    /// The class of the event being read, as BlockFacts.classes keeps it: its shape's six
    /// words, three per value, then one text entry per value, each written in its place as the
    /// values come (a buffer of the scan's own, so that filling it is plain stores).
    struct OpenEvent {
        private(set) var words: UnsafeMutablePointer<UInt32>? = nil
        private var capacity = 0
        /// Values the open event has and has had filled in; words in use.
        private(set) var valueCount = 0
        private(set) var filled = 0
        var isOpen = false

        var wordCount: Int { 6 + 4 * valueCount }

        mutating func start(_ h: EventHeader, valueCount n: Int) {
            if 6 + 4 * n > capacity {
                words?.deallocate()
                capacity = max(64, 6 + 4 * n)
                words = .allocate(capacity: capacity)
            }
            let w = words!
            w[0] = UInt32(h.kind.rawValue)
            w[1] = h.thread
            w[2] = h.code
            w[3] = h.line
            w[4] = n == 0 ? 0 : h.valueLine
            w[5] = UInt32(truncatingIfNeeded: n)
            valueCount = n
            filled = 0
            isOpen = true
        }

        /// Fills in the next value (the scan gives exactly `valueCount` of them).
        @inline(__always)
        mutating func fill(name: UInt32, type: UInt32, deleted: Bool, text: UInt32) {
            guard filled < valueCount, let w = words else { return }
            let at = 6 + 3 * filled
            w[at] = name
            w[at + 1] = deleted ? 0 : type
            w[at + 2] = deleted ? 1 : 0
            w[6 + 3 * valueCount + filled] = text
            filled += 1
        }

        func deallocate() { words?.deallocate() }
    }

    @inline(__always)
    private mutating func addPlace(_ h: EventHeader, valueCount: Int, _ open: inout OpenEvent) {
        if summarized { open.start(h, valueCount: valueCount) }
        if eventCount == 0 { firstSeq = h.seq }
        eventCount += 1
        lastSeq = h.seq
        minLine = min(minLine, h.line, valueCount == 0 ? h.line : h.valueLine)
        maxLine = max(maxLine, h.line, h.valueLine)
        kinds |= 1 << (h.kind.rawValue & 7)
        threads.insert(h.thread)
        codes.insert(h.code)
    }

    @inline(__always)
    private mutating func addValue(name: UInt32, type: UInt32, flags: ValueFlags, text: UnsafeRawBufferPointer, _ open: inout OpenEvent) {
        names.insert(name)
        if flags.contains(.deleted) {
            if summarized { open.fill(name: name, type: type, deleted: true, text: Self.noText) }
            return
        }
        types.insert(type)
        let entry = texts.insert(type: type, truncated: flags.contains(.truncated), bytes: text)
        if summarized { open.fill(name: name, type: type, deleted: false, text: UInt32(entry)) }
    }

    /// Files the event being read under its class (one table lookup per event).
    private mutating func closeEvent(_ open: inout OpenEvent) {
        guard open.isOpen, let words = open.words else { return }
        open.isOpen = false
        let k = classes.insert(type: 0, truncated: false, bytes: UnsafeRawBufferPointer(start: words, count: open.wordCount * 4))
        if k == classCounts.count { classCounts.append(1) } else { classCounts[k] += 1 }
    }

    /// Empties the facts for the next block, keeping the storage.
    public mutating func removeAll() {
        eventCount = 0
        firstSeq = 0
        lastSeq = 0
        minLine = .max
        maxLine = 0
        kinds = 0
        threads.removeAll()
        codes.removeAll()
        names.removeAll()
        types.removeAll()
        texts.removeAll()
        classes.removeAll()
        classCounts.removeAll(keepingCapacity: true)
    }

    /// The event kinds present.
    var kindList: [EventKind] { EventKind.allCases.filter { kinds & (1 << ($0.rawValue & 7)) != 0 } }
}

/// A set of small ids (code, name, type and thread numbers are dense): membership by a stamp
/// per id, so inserting is an array access and emptying is one increment.
struct DenseIDSet {
    private var stamps: [UInt32] = []
    private var generation: UInt32 = 1
    private var sparse: Set<UInt32> = []  // ids too large for the stamp array (a damaged log)
    private(set) var ids: [UInt32] = []

    private static let denseLimit = 1 << 22

    @inline(__always)
    mutating func insert(_ id: UInt32) {
        let i = Int(id)
        guard i < Self.denseLimit else {
            if sparse.insert(id).inserted { ids.append(id) }
            return
        }
        if i >= stamps.count { stamps.append(contentsOf: repeatElement(0, count: max(i + 1 - stamps.count, stamps.count, 64))) }
        if stamps[i] != generation {
            stamps[i] = generation
            ids.append(id)
        }
    }

    mutating func removeAll() {
        generation &+= 1
        if generation == 0 {
            for i in stamps.indices { stamps[i] = 0 }
            generation = 1
        }
        sparse.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
    }
}

/// Distinct value texts of a block, keyed by type, truncation and bytes; the bytes are copied
/// once into an arena. An open-addressing table over a cheap word-at-a-time hash.
struct TextSet {
    struct Entry {
        var start: Int
        var length: Int
        var type: UInt32
        var truncated: Bool
        var hash: UInt64
    }

    private(set) var entries: [Entry] = []
    private(set) var arena: [UInt8] = []
    /// Each slot 0 (empty) or an entry: its index + 1 in the low 32 bits, the high 32 bits of its
    /// hash above them, so that a probe passes other entries without reading them.
    private var table: [UInt64]

    /// A set with room for about `expected` entries before its table grows.
    init(expected: Int = 0) {
        var size = 1024
        while size < 2 * expected && size < 1 << 24 { size *= 2 }
        table = Array(repeating: 0, count: size)
    }

    private static let tagMask: UInt64 = 0xFFFF_FFFF_0000_0000

    /// The bytes of all entries.
    var byteCount: Int { arena.count }

    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var h = seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var i = 0
        let n = bytes.count
        if n >= 32 {
            // Four independent lanes for long texts (a dict or a list of a few hundred bytes):
            // one multiply chain would wait on itself at every word.
            var a = h, b = h ^ 0x2545_F491_4F6C_DD1D, c = h ^ 0x1405_7B7E_F767_814F, d = h ^ 0x6C62_272E_07BB_0142
            while i + 32 <= n {
                a = (a ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                b = (b ^ bytes.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                c = (c ^ bytes.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                d = (d ^ bytes.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                a ^= a >> 32
                b ^= b >> 29
                c ^= c >> 31
                d ^= d >> 27
                i += 32
            }
            h = ((a &* 0x9E37_79B9_7F4A_7C15) ^ (b &* 0xC2B2_AE3D_27D4_EB4F) ^ (c &* 0x1656_67B1_9E37_79F9) ^ d) &* 0xFF51_AFD7_ED55_8CCD
        }
        while i + 8 <= n {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(bytes[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 29)
    }

    /// Whether the `n` bytes at `a` and `b` are equal: word by word, inline (most keys are
    /// short, where a call to memcmp costs more than the comparison).
    @inline(__always)
    static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        var i = 0
        while i + 8 <= n {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < n {
            if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }

    /// Adds a text unless present; returns its entry's index.
    @discardableResult
    mutating func insert(type: UInt32, truncated: Bool, bytes: UnsafeRawBufferPointer) -> Int {
        let h = Self.hash(bytes, seed: UInt64(type) << 1 | (truncated ? 1 : 0))
        let tag = h & Self.tagMask
        let n = bytes.count
        // The entry found, or the complement of the empty slot where it goes.
        let found: Int = table.withUnsafeBufferPointer { table in
            entries.withUnsafeBufferPointer { entries in
                arena.withUnsafeBytes { arena in
                    let mask = table.count - 1
                    var j = Int(truncatingIfNeeded: h) & mask
                    while true {
                        let slot = table[j]
                        if slot == 0 { return ~j }
                        if slot & Self.tagMask == tag {
                            let k = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
                            let e = entries[k]
                            if e.hash == h && e.length == n && e.type == type && e.truncated == truncated &&
                                (n == 0 || Self.equal(arena.baseAddress! + e.start, bytes.baseAddress!, n)) {
                                return k
                            }
                        }
                        j = (j + 1) & mask
                    }
                }
            }
        }
        if found >= 0 { return found }
        table[~found] = tag | UInt64(entries.count + 1)
        entries.append(Entry(start: arena.count, length: n, type: type, truncated: truncated, hash: h))
        arena.append(contentsOf: bytes)
        if entries.count * 2 > table.count { grow() }
        return entries.count - 1
    }

    private mutating func grow() {
        table = Array(repeating: 0, count: table.count * 2)
        let mask = table.count - 1
        for (k, e) in entries.enumerated() {
            var j = Int(truncatingIfNeeded: e.hash) & mask
            while table[j] != 0 { j = (j + 1) & mask }
            table[j] = e.hash & Self.tagMask | UInt64(k + 1)
        }
    }

    /// Replaces `out` with the UInt32s of entry `e` (for sets of UInt32 arrays stored as bytes).
    func copyWords(_ e: Entry, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        arena.withUnsafeBytes { a in
            for i in 0..<e.length / 4 { out.append(a.loadUnaligned(fromByteOffset: e.start + i * 4, as: UInt32.self)) }
        }
    }

    /// Calls `body` with the whole arena (entries' bytes at their `start`), valid only during the call.
    func withArena<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try arena.withUnsafeBytes(body)
    }

    /// Calls `body` with the bytes of entry `e` (valid only during the call).
    func withBytes<R>(_ e: Entry, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[e.start..<e.start + e.length])) }
    }

    /// The text of entry `e`.
    func text(_ e: Entry) -> String {
        arena.withUnsafeBytes { String(decoding: UnsafeRawBufferPointer(rebasing: $0[e.start..<e.start + e.length]), as: UTF8.self) }
    }

    mutating func removeAll() {
        if !entries.isEmpty {
            if table.count > 1 << 16 { table = Array(repeating: 0, count: 1024) }
            else { for i in table.indices { table[i] = 0 } }
        }
        entries.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
    }
}

extension Definitions {
    /// Whether every code, name and type a block refers to is defined here.
    func covers(_ facts: BlockFacts) -> Bool {
        facts.codes.ids.allSatisfy { codes[$0] != nil } &&
            facts.names.ids.allSatisfy { $0 < ValueName.firstName || names[$0] != nil } &&
            facts.types.ids.allSatisfy { types[$0] != nil }
    }
}
