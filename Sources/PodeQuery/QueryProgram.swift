import PodeIndex
import PodeLog

/// A parsed query as the verifier runs it against single events (the shim's program encoding:
/// opcodes 0 nothing, 1 all, 2 term, 3 and, 4 or, 5 and-not, 6 xor, 7 phrase, 8 near,
/// 9 wildcard, 10 range, 11 and-maybe).
indirect enum QueryNode {
    case nothing, all
    case term(String)
    case and([QueryNode]), or([QueryNode]), andNot([QueryNode]), xor([QueryNode]), andMaybe([QueryNode])
    case phrase(window: Int, words: [String]), near(window: Int, words: [String])
    case wildcard(String)
    case range(tag: UInt8, lo: UInt64, hi: UInt64)

    /// Whether the node can match a value's text: a word (unprefixed terms come from texts, and
    /// from variables' names too), an exact value, a phrase, or a pattern over either.
    var usesValueTexts: Bool {
        switch self {
        case .nothing, .all, .range: return false
        case .term(let t): return Schema.isTextTerm(t)
        case .wildcard(let p): return !Schema.isPrefixed(p) || p.hasPrefix(Schema.Prefix.exactValue)
        case .phrase, .near: return true
        case .and(let kids), .or(let kids), .andNot(let kids), .xor(let kids), .andMaybe(let kids): return kids.contains { $0.usesValueTexts }
        }
    }

    static func decode(_ bytes: [UInt8]) throws -> QueryNode {
        var at = 0
        let node = try decode(bytes, &at)
        guard at == bytes.count else { throw QueryError.internalError("trailing bytes in the compiled query") }
        return node
    }

    private static func decode(_ b: [UInt8], _ at: inout Int) throws -> QueryNode {
        guard at < b.count else { throw QueryError.internalError("truncated compiled query") }
        let op = b[at]
        at += 1
        func varint() throws -> UInt64 {
            guard let v = Varint.read(b, &at) else { throw QueryError.internalError("truncated compiled query") }
            return v
        }
        func string() throws -> String {
            let n = Int(try varint())
            guard at + n <= b.count else { throw QueryError.internalError("truncated compiled query") }
            defer { at += n }
            return String(decoding: b[at..<at + n], as: UTF8.self)
        }
        func children() throws -> [QueryNode] {
            let n = Int(try varint())
            return try (0..<n).map { _ in try decode(b, &at) }
        }
        switch op {
        case 0: return .nothing
        case 1: return .all
        case 2: return .term(try string())
        case 3: return .and(try children())
        case 4: return .or(try children())
        case 5: return .andNot(try children())
        case 6: return .xor(try children())
        case 7, 8:
            let window = Int(try varint())
            let kids = try children()
            let words = try kids.map { k -> String in
                guard case .term(let t) = k else { throw QueryError.unsupported("only words can be part of a phrase") }
                return t
            }
            return op == 7 ? .phrase(window: window, words: words) : .near(window: window, words: words)
        case 9: return .wildcard(try string())
        case 10:
            guard at < b.count else { throw QueryError.internalError("truncated compiled query") }
            let tag = b[at]
            at += 1
            return .range(tag: tag, lo: try varint(), hi: try varint())
        case 11: return .andMaybe(try children())
        default: throw QueryError.internalError("unknown operator \(op) in compiled query")
        }
    }
}

/// What the verifier needs of one event (or of one value of it).
struct EventFacts {
    /// The event's terms, as the sets they come in (place, then each value).
    var termSets: [Set<String>]
    /// Each searched text's words in order, for phrases.
    var wordLists: [[String]]
    var seq: UInt64
    var lines: [UInt32]

    func matches(_ node: QueryNode) -> Bool {
        switch node {
        case .nothing: return false
        case .all: return true
        case .term(let t): return termSets.contains { $0.contains(t) }
        case .and(let kids): return kids.allSatisfy(matches)
        case .or(let kids): return kids.contains(where: matches)
        case .andNot(let kids):
            guard let first = kids.first, matches(first) else { return false }
            return !kids.dropFirst().contains(where: matches)
        case .xor(let kids): return kids.filter(matches).count % 2 == 1
        case .andMaybe(let kids): return kids.first.map(matches) ?? false
        case .phrase(let window, let words): return wordLists.contains { Self.phrase(words, in: $0, window: window, ordered: true) }
        case .near(let window, let words): return wordLists.contains { Self.phrase(words, in: $0, window: window, ordered: false) }
        case .wildcard(let pattern):
            let prefixed = Schema.isPrefixed(pattern)
            // An unprefixed pattern never matches a prefixed term.
            return termSets.contains { $0.contains { $0.hasPrefix(pattern) && (prefixed || !Schema.isPrefixed($0)) } }
        case .range(let tag, let lo, let hi):
            switch tag {
            case Schema.RangeTag.seq: return seq >= lo && seq <= hi
            case Schema.RangeTag.line: return lines.contains { UInt64($0) >= lo && UInt64($0) <= hi }
            default: return false
            }
        }
    }

    /// Whether `words` occur in `list` within `window` positions (in order for a phrase).
    static func phrase(_ words: [String], in list: [String], window: Int, ordered: Bool) -> Bool {
        guard !words.isEmpty, list.count >= words.count else { return false }
        let span = max(window, words.count)
        if ordered {
            for start in 0...(list.count - words.count) where list[start] == words[0] {
                var pos = start
                var ok = true
                for w in words.dropFirst() {
                    guard let next = list[(pos + 1)..<min(list.count, start + span)].firstIndex(of: w) else { ok = false; break }
                    pos = next
                }
                if ok { return true }
            }
            return false
        }
        for start in 0..<list.count where words.contains(list[start]) {
            let slice = list[start..<min(list.count, start + span)]
            if words.allSatisfy(slice.contains) { return true }
        }
        return false
    }
}
