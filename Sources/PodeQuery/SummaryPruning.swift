import PodeIndex
import PodeLog

/// Skipping candidate blocks that their summary rules out. Block documents hold long numbers
/// only by their first bytes (see Schema.numberBucketBytes), so a number finds every block
/// that holds a number starting the same way; a block's summary keeps each of its words
/// whole, and looking one up costs far less than reading the block's events.
extension TraceSearcher {
    /// Text terms that every hit of `program` holds, each a term block summaries keep: a hit
    /// of an AND holds each side's, of a phrase each of its words. Empty when there are none.
    static func requiredTextTerms(_ program: QueryNode) -> [String] {
        var out: [String] = []
        func keep(_ term: String) {
            var t = term
            // A single-word exact value is kept in summaries as its lower-cased word only.
            if t.hasPrefix(Schema.Prefix.exactValue), Schema.isSingleASCIIWord(String(t.dropFirst())) { t = t.dropFirst().lowercased() }
            guard Schema.isTextTerm(t), t.utf8.count <= BlockSummary.maxTermBytes, !out.contains(t) else { return }
            out.append(t)
        }
        func visit(_ node: QueryNode) {
            switch node {
            case .term(let t): keep(t)
            case .and(let kids): kids.forEach(visit)
            case .andNot(let kids), .andMaybe(let kids): if let first = kids.first { visit(first) }
            case .phrase(_, let words), .near(_, let words): words.forEach(keep)
            case .nothing, .all, .range, .wildcard, .or, .xor: break
            }
        }
        visit(program)
        return out
    }

    /// Whether block `index` may hold a hit with every term of `required`: false only when its
    /// summary is intact and lacks one of them, and (for a word) no variable named in the
    /// block has that word in its name.
    func blockMayHold(_ index: Int, required: [String]) -> Bool {
        guard !required.isEmpty, index < timeline.indexedBlocks, let summaries,
              let range = try? timeline.segment(index).summary, range.upperBound <= summaries.bytes.count,
              let view = BlockSummary.View(UnsafeRawBufferPointer(rebasing: summaries.bytes[range])) else { return true }
        for term in required {
            guard let rows = view.rows(of: term) else { return true }
            guard rows.isEmpty else { continue }
            if Schema.isPrefixed(term) { return false }
            let named = view.shapes.contains { s in s.shape.values.contains { nameWords($0.name).contains(term) } }
            if !named { return false }
        }
        return true
    }
}
