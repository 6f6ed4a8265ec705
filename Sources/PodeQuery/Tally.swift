import PodeIndex
import PodeLog

/// Counting every hit of a query without reading every event: a block whose summary can
/// answer the query is counted from its event shapes (see BlockSummary); any other block,
/// and the unindexed tail, is read and checked event by event as `search` does.
extension TraceSearcher {
    /// What a query needs of block summaries: at most one text term (a word or exact value)
    /// and nothing that only an event's text can answer (phrases, text wildcards).
    struct SummaryPlan {
        /// The query's text term, if it has one.
        var textTerm: String?
        var seqRanges: [(lo: UInt64, hi: UInt64)] = []

        init?(_ program: QueryNode) {
            var texts = Set<String>()
            var ranges: [(UInt64, UInt64)] = []
            func visit(_ node: QueryNode) -> Bool {
                switch node {
                case .nothing, .all: return true
                case .term(let t):
                    guard Schema.isTextTerm(t) else { return true }
                    // A single-word exact value is kept in the index as its lower-cased word only.
                    if t.hasPrefix(Schema.Prefix.exactValue) && Schema.isSingleASCIIWord(String(t.dropFirst())) { return false }
                    guard t.utf8.count <= BlockSummary.maxTermBytes else { return false }
                    texts.insert(t)
                    return texts.count <= 1
                case .wildcard(let pattern): return !Schema.isTextTerm(pattern)
                case .phrase, .near: return false
                case .range(let tag, let lo, let hi):
                    if tag == Schema.RangeTag.seq { ranges.append((lo, hi)) }
                    return true
                case .and(let k), .or(let k), .andNot(let k), .xor(let k), .andMaybe(let k): return k.allSatisfy(visit)
                }
            }
            guard visit(program) else { return nil }
            textTerm = texts.first
            seqRanges = ranges
        }
    }

    /// A shape of event and which of its values hold the query's text term, in one block
    /// (the block matters only to a query with seq ranges).
    private struct ShapeClass: Hashable {
        var shape: EventShape
        var mask: UInt64
        var block: UInt64
    }

    /// Calls `body` with each hit and how many events it stands for, until every event that
    /// matches `query` has been counted once. Hits from block summaries are events of a shape
    /// (their values have no text): enough for counts and facets, not for printing.
    public func tally(_ query: CompiledQuery, _ body: (Hit, Int) throws -> Void) throws {
        try tally(query, summarizing: { _ in true }) { hit, n, _ in try body(hit, n) }
    }

    /// `tally`, counting from its summary only a block that `summarizing` accepts (reading the
    /// others event by event), and telling `body` which block each hit is in: a timeline of
    /// the hits takes summaries only of blocks that fall in one of its buckets.
    /// Before each block but the first it asks `stop`; when that says to stop, it returns the first event
    /// not counted (every event before it was), else nil.
    @discardableResult
    public func tally(_ query: CompiledQuery, summarizing: (Timeline.Segment) -> Bool, stop: () -> Bool = { false },
                      _ body: (Hit, Int, Timeline.Segment) throws -> Void) throws -> UInt64? {
        let plan = SummaryPlan(query.program)
        var known: [ShapeClass: Hit?] = [:]
        var valueTerms: [EventShape.Value: Set<String>] = [:]
        let segments = try candidateSegments(query)
        for index in segments {
            let segment = try timeline.segment(index)
            if index != segments.first, stop() { return segment.firstSeq }
            if let plan, summarizing(segment), let range = segment.summary, let summaries, range.upperBound <= summaries.bytes.count,
               let view = BlockSummary.View(UnsafeRawBufferPointer(rebasing: summaries.bytes[range])),
               let classes = Self.classes(of: view, textTerm: plan.textTerm) {
                // A seq range must take the whole block or none of it.
                let decided = plan.seqRanges.allSatisfy { r in
                    (r.lo <= segment.firstSeq && segment.lastSeq <= r.hi) || segment.lastSeq < r.lo || segment.firstSeq > r.hi
                }
                if decided {
                    for c in classes {
                        let key = ShapeClass(shape: view.shapes[c.shape].shape, mask: c.mask, block: plan.seqRanges.isEmpty ? 0 : segment.firstSeq)
                        let hit: Hit?
                        if let h = known[key] {
                            hit = h
                        } else {
                            hit = classHit(key, program: query.program, textTerm: plan.textTerm, valueTerms: &valueTerms)
                            known[key] = hit
                        }
                        if let hit { try body(hit, c.count, segment) }
                    }
                    continue
                }
            }
            if !blockMayHold(index, required: query.requiredTextTerms) { continue }
            for e in try timeline.events(inSegment: index) {
                if let hit = verify(e, query) { try body(hit, 1, segment) }
            }
        }
        return nil
    }

    /// The block's events by shape and by which values hold `textTerm`; nil when the summary
    /// is damaged.
    private static func classes(of view: BlockSummary.View, textTerm: String?) -> [(shape: Int, mask: UInt64, count: Int)]? {
        var out = view.shapes.indices.map { (shape: $0, mask: UInt64(0), count: view.shapes[$0].count) }
        guard let textTerm else { return out }
        guard let rows = view.rows(of: textTerm) else { return nil }
        for row in rows {
            guard row.count <= out[row.shape].count else { return nil }
            out[row.shape].count -= row.count
            out.append(row)
        }
        return out.filter { $0.count > 0 }
    }

    /// The hit an event of class `c` makes, or nil when it does not match.
    private func classHit(_ c: ShapeClass, program: QueryNode, textTerm: String?,
                          valueTerms: inout [EventShape.Value: Set<String>]) -> Hit? {
        let event = c.shape.event(seq: c.block)
        var sets: [[Set<String>]] = []
        for (i, v) in c.shape.values.enumerated() {
            var terms: Set<String>
            if let t = valueTerms[v] {
                terms = t
            } else {
                terms = []
                Schema.shapeTerms(name: v.name, type: v.type, deleted: v.deleted, definitions: definitions, into: &terms)
                valueTerms[v] = terms
            }
            if let textTerm, c.mask & (1 << UInt64(i)) != 0 { terms.insert(textTerm) }
            sets.append([terms])
        }
        return Self.hit(event, program, place: terms(ofPlace: event), valueTerms: sets, valueWords: [])
    }
}
