#if canImport(Glibc)
import Glibc
#endif
import PodeLog

/// What a block's events look like without their value texts: kind, thread, code, lines, and
/// each value's name, type and whether it was deleted. Events of one shape share every term
/// but their texts' words and exact values.
public struct EventShape: Hashable, Sendable {
    public struct Value: Hashable, Sendable {
        public var name: UInt32
        public var type: UInt32
        public var deleted: Bool
    }

    public var kind: EventKind
    public var thread: UInt32
    public var code: UInt32
    public var line: UInt32
    /// 0 when the event has no values.
    public var valueLine: UInt32
    public var values: [Value]

    /// An event of this shape (number `seq`, values without text), as the facet counter and
    /// the query check take it.
    public func event(seq: UInt64) -> Event {
        Event(seq: seq, time: 0, kind: kind, thread: thread, activation: 0, caller: 0, callerLine: 0, code: code, line: line,
              depth: 0, valueLine: valueLine,
              values: values.map { RecordedValue(name: $0.name, type: $0.type, flags: $0.deleted ? .deleted : [], text: "", fullLength: 0) })
    }
}

/// The per-block summary that lets a count or facets be computed without reading events:
/// how many events of the block have each shape, and for each text term (a word or exact
/// value of a value's text), how many events of each shape hold it in which values.
///
/// Stored in `summaries.bin` (see docs/schema.md), one summary per block document, whose data
/// says where. Layout, all numbers varints unless said otherwise:
///
///     version (1 byte, 1)
///     shape count, then per shape: event count, kind, thread, code, line, value line,
///         value count, and per value: name, type, deleted (0 or 1)
///     term count, then one UInt32 LE per term: where its entry starts, from the first entry
///     checksum (UInt32 LE, podeChecksum of everything before it)
///     entries, in byte order of their terms: term length, term bytes, row count,
///         then per row: shape index, value mask (bit i: value i holds the term), event count,
///         then a checksum of the entry (UInt32 LE)
public enum BlockSummary {
    static let version: UInt8 = 1
    /// Terms longer than this have no rows (a query for one reads the events instead).
    public static let maxTermBytes = 200
    /// A block with an event of more values than this has no summary (masks are 64 bits).
    static let maxValues = 64

    /// One row: how many events of a shape hold a term in the values of a mask; rows of one
    /// term are chained through `next` (few per term: one per shape and mask).
    struct Row {
        var shape: Int32
        var mask: UInt64
        var count: Int
        var next: Int32
        var term: Int32
    }

    /// The rows of a block, chained by term, and found by term, shape and mask through an
    /// open-addressing table (a common term has a row for each of hundreds of shapes: walking
    /// its chain for every class was most of the summary's cost).
    struct RowTable {
        var head: [Int32]
        var rows: [Row] = []
        private var slots = [Int32](repeating: -1, count: 1024)

        /// A table for `terms` terms and about `rows` rows at most (sized once, so that it is
        /// not built again and again as it fills).
        init(terms: Int, rows: Int = 0) {
            head = [Int32](repeating: -1, count: terms)
            var size = 1024
            while size < 2 * rows && size < 1 << 22 { size *= 2 }
            slots = [Int32](repeating: -1, count: size)
        }

        @inline(__always)
        private static func hash(_ term: Int32, _ shape: Int32, _ mask: UInt64) -> Int {
            var h = (UInt64(UInt32(bitPattern: term)) << 32 | UInt64(UInt32(bitPattern: shape))) &* 0x9E37_79B9_7F4A_7C15
            h = (h ^ mask ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
            return Int(truncatingIfNeeded: h ^ (h >> 32))
        }

        mutating func add(_ term: Int32, _ shape: Int32, _ mask: UInt64, _ count: Int) {
            var slotMask = slots.count - 1
            var j = Self.hash(term, shape, mask) & slotMask
            // Probed through buffers: one check of the arrays per call, not one per step.
            let counted = slots.withUnsafeBufferPointer { slots in
                rows.withUnsafeMutableBufferPointer { rows -> Bool in
                    while true {
                        let r = Int(slots[j])
                        if r < 0 { return false }
                        if rows[r].term == term && rows[r].shape == shape && rows[r].mask == mask {
                            rows[r].count += count
                            return true
                        }
                        j = (j + 1) & slotMask
                    }
                }
            }
            if counted { return }
            let t = Int(term)
            rows.append(Row(shape: shape, mask: mask, count: count, next: head[t], term: term))
            head[t] = Int32(rows.count - 1)
            slots[j] = head[t]
            if rows.count * 2 > slots.count {
                slots = [Int32](repeating: -1, count: slots.count * 2)
                slotMask = slots.count - 1
                for (k, row) in rows.enumerated() {
                    var i = Self.hash(row.term, row.shape, row.mask) & slotMask
                    while slots[i] >= 0 { i = (i + 1) & slotMask }
                    slots[i] = Int32(k)
                }
            }
        }

        /// Replaces `list` with the rows of `term`, by shape and mask (a reused buffer: most
        /// terms have one row, and a block has thousands of terms).
        func rows(of term: Int, into list: inout [Row]) {
            list.removeAll(keepingCapacity: true)
            var r = Int(head[term])
            while r >= 0 {
                list.append(rows[r])
                r = Int(rows[r].next)
            }
            if list.count > 1 { list.sort { ($0.shape, $0.mask) < ($1.shape, $1.mask) } }
        }
    }

    /// One class of BlockFacts.classes read in place: its shape (six words, then three per
    /// value), then one text entry per value. Nil when the entry is not laid out so.
    struct ClassWords {
        let arena: UnsafeRawBufferPointer
        let start: Int
        /// The number of values.
        let texts: Int

        init?(_ entry: TextSet.Entry, in arena: UnsafeRawBufferPointer) {
            guard entry.length >= 24 else { return nil }
            let texts = Int(arena.loadUnaligned(fromByteOffset: entry.start + 20, as: UInt32.self))
            guard texts <= BlockSummary.maxValues, entry.length == 4 * (6 + 4 * texts) else { return nil }
            self.arena = arena
            start = entry.start
            self.texts = texts
        }

        /// The shape's bytes, as BlockSummary keeps shapes.
        var shape: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: arena[start..<start + 4 * (6 + 3 * texts)]) }

        /// Value `i`'s text entry (BlockFacts.noText for a deleted one).
        func text(_ i: Int) -> UInt32 { arena.loadUnaligned(fromByteOffset: start + 4 * (6 + 3 * texts + i), as: UInt32.self) }
    }

    /// The summary of a block, given the index terms of its distinct texts; nil when an event
    /// has more than 64 values.
    static func encode(_ facts: BlockFacts, textTerms: Schema.TextTerms) -> [UInt8]? {
        // At most one row per term of each value of each class.
        let bound = facts.classes.withArena { arena -> Int in
            var n = 0
            for entry in facts.classes.entries {
                guard let c = ClassWords(entry, in: arena) else { continue }
                for i in 0..<c.texts where c.text(i) != BlockFacts.noText { n += textTerms.numbers(ofText: Int(c.text(i))).count }
            }
            return n
        }
        var table = RowTable(terms: textTerms.count, rows: bound)
        var shapes = TextSet()
        var shapeCounts: [Int] = []
        // A class's terms with the values holding each; a term's place in `masks` while its
        // stamp is the class's number.
        var masks: [(term: Int32, mask: UInt64)] = []
        var maskAt = [Int32](repeating: 0, count: textTerms.count)
        var maskStamp = [Int32](repeating: -1, count: textTerms.count)
        let wellFormed = facts.classes.withArena { arena -> Bool in
            for (k, entry) in facts.classes.entries.enumerated() {
                let count = facts.classCounts[k]
                guard let c = ClassWords(entry, in: arena) else { return false }
                let shapeIndex = shapes.insert(type: 0, truncated: false, bytes: c.shape)
                if shapeIndex == shapeCounts.count { shapeCounts.append(count) } else { shapeCounts[shapeIndex] += count }
                let shape = Int32(shapeIndex)
                if c.texts == 1 {
                    let text = c.text(0)
                    if text != BlockFacts.noText { for term in textTerms.numbers(ofText: Int(text)) { table.add(term, shape, 1, count) } }
                    continue
                }
                masks.removeAll(keepingCapacity: true)
                for i in 0..<c.texts {
                    let text = c.text(i)
                    guard text != BlockFacts.noText else { continue }
                    for term in textTerms.numbers(ofText: Int(text)) {
                        let t = Int(term)
                        if maskStamp[t] == Int32(truncatingIfNeeded: k) {
                            masks[Int(maskAt[t])].mask |= 1 << UInt64(i)
                        } else {
                            maskStamp[t] = Int32(truncatingIfNeeded: k)
                            maskAt[t] = Int32(masks.count)
                            masks.append((term, 1 << UInt64(i)))
                        }
                    }
                }
                for m in masks { table.add(m.term, shape, m.mask, count) }
            }
            return true
        }
        guard wellFormed else { return nil }

        var out: [UInt8] = [version]
        out.reserveCapacity(1 + 8 * shapes.entries.count + shapes.byteCount + 5 * textTerms.count + 16)
        Varint.append(UInt64(shapeCounts.count), to: &out)
        shapes.withArena { arena in
            for (k, entry) in shapes.entries.enumerated() {
                Varint.append(UInt64(shapeCounts[k]), to: &out)
                for i in 0..<entry.length / 4 { Varint.append(UInt64(arena.loadUnaligned(fromByteOffset: entry.start + 4 * i, as: UInt32.self)), to: &out) }
            }
        }
        let keys = textTerms.terms.entries
        var entries: [UInt8] = []
        var starts: [UInt32] = []
        var list: [Row] = []
        textTerms.terms.withArena { arena in
            // Terms in byte order: by their first eight bytes as a big-endian number, then (for
            // equal ones) by all their bytes.
            func bytes(_ id: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: arena[keys[id].start..<keys[id].start + keys[id].length]) }
            var order: [(head: UInt64, id: Int)] = []
            order.reserveCapacity(keys.count)
            for id in keys.indices where table.head[id] >= 0 && keys[id].length <= maxTermBytes {
                var head: UInt64 = 0
                let b = bytes(id)
                for i in 0..<8 { head = head << 8 | UInt64(i < b.count ? b[i] : 0) }
                order.append((head, id))
            }
            order.sort { $0.head != $1.head ? $0.head < $1.head : precedes(bytes($0.id), bytes($1.id)) }
            entries.reserveCapacity(order.count * 24 + table.rows.count * 6)
            starts.reserveCapacity(order.count)
            for (_, id) in order {
                let start = entries.count
                starts.append(UInt32(start))
                Varint.append(UInt64(keys[id].length), to: &entries)
                entries.append(contentsOf: bytes(id))
                table.rows(of: id, into: &list)
                Varint.append(UInt64(list.count), to: &entries)
                for row in list {
                    Varint.append(UInt64(row.shape), to: &entries)
                    Varint.append(row.mask, to: &entries)
                    Varint.append(UInt64(row.count), to: &entries)
                }
                let sum = entries.withUnsafeBytes { podeChecksum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
                entries.appendLE(sum)
            }
        }
        Varint.append(UInt64(starts.count), to: &out)
        for s in starts { out.appendLE(s) }
        out.appendLE(out.withUnsafeBytes { podeChecksum($0) })
        out += entries
        return out
    }

    /// Byte order of terms, as the entries are sorted.
    static func precedes(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) -> Bool {
        let n = min(x.count, y.count)
        let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
        return c != 0 ? c < 0 : x.count < y.count
    }

    /// A summary read back in place (the bytes must outlive it). Every read is bounds-checked;
    /// a damaged summary reads as nil rather than as wrong counts.
    public struct View {
        public let shapes: [(shape: EventShape, count: Int)]
        private let bytes: UnsafeRawBufferPointer
        private let termCount: Int
        private let startsAt: Int
        private let entriesAt: Int

        public init?(_ bytes: UnsafeRawBufferPointer) {
            var at = 0
            guard bytes.count > 0, bytes[0] == BlockSummary.version else { return nil }
            at = 1
            func next() -> UInt64? { Varint.read(bytes, &at) }
            guard let shapeCount = next(), shapeCount <= UInt64(bytes.count) else { return nil }
            var shapes: [(EventShape, Int)] = []
            shapes.reserveCapacity(Int(shapeCount))
            for _ in 0..<shapeCount {
                guard let count = next(), let kindRaw = next(), let kind = EventKind(rawValue: UInt8(truncatingIfNeeded: kindRaw)),
                      let thread = next(), let code = next(), let line = next(), let valueLine = next(), let n = next(),
                      n <= UInt64(BlockSummary.maxValues) else { return nil }
                var values: [EventShape.Value] = []
                values.reserveCapacity(Int(n))
                for _ in 0..<n {
                    guard let name = next(), let type = next(), let deleted = next() else { return nil }
                    values.append(EventShape.Value(name: UInt32(truncatingIfNeeded: name), type: UInt32(truncatingIfNeeded: type), deleted: deleted != 0))
                }
                shapes.append((EventShape(kind: kind, thread: UInt32(truncatingIfNeeded: thread), code: UInt32(truncatingIfNeeded: code),
                                          line: UInt32(truncatingIfNeeded: line), valueLine: UInt32(truncatingIfNeeded: valueLine),
                                          values: values), Int(count)))
            }
            guard let terms = next(), terms <= UInt64(bytes.count), at + Int(terms) * 4 + 4 <= bytes.count else { return nil }
            let headEnd = at + Int(terms) * 4
            guard BlockSummary.checksum(bytes, headEnd) == podeChecksum(UnsafeRawBufferPointer(rebasing: bytes[0..<headEnd])) else { return nil }
            self.shapes = shapes
            self.bytes = bytes
            termCount = Int(terms)
            startsAt = at
            entriesAt = headEnd + 4
        }

        /// One term entry, checked against its checksum; nil when damaged.
        private func entry(_ i: Int) -> (term: UnsafeRawBufferPointer, rows: [(shape: Int, mask: UInt64, count: Int)])? {
            let start = entriesAt + Int(bytes.loadUnaligned(fromByteOffset: startsAt + i * 4, as: UInt32.self).littleEndian)
            var at = start
            guard start < bytes.count, let n = Varint.read(bytes, &at), n <= UInt64(bytes.count - at) else { return nil }
            let term = UnsafeRawBufferPointer(rebasing: bytes[at..<at + Int(n)])
            at += Int(n)
            guard let count = Varint.read(bytes, &at), count <= UInt64(bytes.count) else { return nil }
            var rows: [(Int, UInt64, Int)] = []
            for _ in 0..<count {
                guard let shape = Varint.read(bytes, &at), shape < UInt64(shapes.count), let mask = Varint.read(bytes, &at),
                      let c = Varint.read(bytes, &at), c <= UInt64(Int.max) else { return nil }
                rows.append((Int(shape), mask, Int(c)))
            }
            guard at + 4 <= bytes.count,
                  BlockSummary.checksum(bytes, at) == podeChecksum(UnsafeRawBufferPointer(rebasing: bytes[start..<at])) else { return nil }
            return (term, rows)
        }

        /// The rows of `term`: per shape index and value mask, how many events hold it (none
        /// when no event does). Nil when the summary is damaged.
        public func rows(of term: String) -> [(shape: Int, mask: UInt64, count: Int)]? {
            let key = Array(term.utf8)
            var lo = 0, hi = termCount
            while lo < hi {
                let mid = (lo + hi) / 2
                guard let found = entry(mid) else { return nil }
                if found.term.elementsEqual(key) { return found.rows }
                if key.withUnsafeBytes({ BlockSummary.precedes(found.term, $0) }) { lo = mid + 1 } else { hi = mid }
            }
            return []
        }
    }

    /// The UInt32 LE stored at `offset`.
    static func checksum(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
    }
}
