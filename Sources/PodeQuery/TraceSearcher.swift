import Foundation
import PodeIndex
import PodeLog
import XapianKit

/// A search hit: an event, and which of its values matched (empty when the event matched
/// through its kind, place or thread rather than a particular value).
public struct Hit: Sendable {
    public let event: Event
    public let matchedValues: [Int]
}

/// A query compiled once and run against a trace.
public struct CompiledQuery {
    public let text: String
    let xapian: XapianQuery
    let program: QueryNode

    /// Xapian's description of the parsed query (for --explain and debugging).
    public var description: String { xapian.description }
}

/// Searches one trace exactly: Xapian finds the blocks that may hold hits, each event of those
/// blocks is checked against the query, and the part of the log not indexed yet (a recording
/// still running, or one that was killed) is checked event by event.
public final class TraceSearcher {
    public let trace: TraceDirectory
    public let metadata: TraceMetadata
    public let definitions: Definitions
    let reader: LogReader
    let database: XapianDatabase?
    /// The log is read up to here: its size when the searcher opened.
    let logEnd: Int
    /// Frames before this offset are in block documents.
    let indexedUpTo: Int
    private let parser = XapianQueryParser(fields: Schema.queryFields)

    public init(trace: TraceDirectory) throws {
        self.trace = trace
        metadata = try trace.readMetadata()
        reader = try LogReader(directory: trace.path)
        logEnd = try reader.eventsSize()
        // Definitions are written before the events that use them: read them after the size.
        definitions = try reader.definitions()
        var db: XapianDatabase? = nil
        var upTo = LogReader.firstFrameOffset
        if let opened = try? XapianDatabase(path: trace.indexPath) {
            db = opened
            upTo = Int(try opened.metadata(Schema.Metadata.indexedUpTo) ?? "") ?? LogReader.firstFrameOffset
        }
        database = db
        indexedUpTo = min(upTo, logEnd)
    }

    /// Parses `text` with Xapian's QueryParser (pode's fields as prefixes).
    public func compile(_ text: String) throws -> CompiledQuery {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw QueryError.syntax("the query is empty") }
        if let field = Self.unknownField(in: text) { throw QueryError.unknownField(field) }
        let parsed: XapianQuery
        do {
            parsed = try parser.parse(Self.negateOnlyHateTerms(text))
        } catch let e as XapianError {
            if e.isQuerySyntaxError { throw QueryError.syntax(e.message) }
            throw QueryError.unsupported(e.message)
        }
        return CompiledQuery(text: text, xapian: parsed, program: try QueryNode.decode(parsed.program))
    }

    /// Xapian's QueryParser reads a query made only of `-term`s as those terms; pode reads it as
    /// "none of them": `-a -b` becomes `NOT (a OR b)`.
    static func negateOnlyHateTerms(_ text: String) -> String {
        var tokens: [String] = []
        var current = ""
        var inQuotes = false
        for c in text {
            if c == "\"" { inQuotes.toggle() }
            if c.isWhitespace && !inQuotes {
                if !current.isEmpty { tokens.append(current); current = "" }
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        guard !tokens.isEmpty, tokens.allSatisfy({ $0.count > 1 && $0.hasPrefix("-") }) else { return text }
        return "NOT (" + tokens.map { String($0.dropFirst()) }.joined(separator: " OR ") + ")"
    }

    /// A `name:` outside quotes whose name is not a field, if any.
    static func unknownField(in text: String) -> String? {
        let chars = Array(text)
        var inQuotes = false
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\"" { inQuotes.toggle(); i += 1; continue }
            let atStart = i == 0 || " \t(+-".contains(chars[i - 1])
            if !inQuotes && atStart && (c.isLetter || c == "_") {
                var j = i
                while j < chars.count && (chars[j].isLetter || chars[j].isNumber || chars[j] == "_") { j += 1 }
                if j < chars.count && chars[j] == ":" {
                    let name = String(chars[i..<j])
                    if !Schema.fieldNames.contains(name) { return name }
                }
                i = j
                continue
            }
            i += 1
        }
        return nil
    }

    /// Calls `body` with every hit in time order (newest first with `descending`) until it
    /// returns false.
    public func search(_ query: CompiledQuery, descending: Bool = false, _ body: (Hit) throws -> Bool) throws {
        var going = true
        func check(_ events: [Event]) throws {
            let ordered: AnySequence<Event> = descending ? AnySequence(events.reversed()) : AnySequence(events)
            for e in ordered where going {
                if let hit = verify(e, query.program) { going = try body(hit) }
            }
        }
        func indexed() throws {
            guard let database, indexedUpTo > LogReader.firstFrameOffset else { return }
            let count = try database.documentCount()
            guard count > 0 else { return }
            let matches = try database.search(query.xapian, limit: count, descending: descending)
            for docid in matches.docids where going {
                guard let location = BlockLocation(encoded: try database.document(docid).data) else {
                    throw QueryError.internalError("block document \(docid) has no location")
                }
                guard location.end <= indexedUpTo else { continue }
                try check(try reader.events(from: location.offset, to: location.end))
            }
        }
        func tail() throws {
            guard indexedUpTo < logEnd else { return }
            if descending {
                // Newest first: collect the tail's frames, then walk them backwards.
                var frames: [LogFrame] = []
                try reader.forEachFrame(from: indexedUpTo, to: logEnd) { frames.append($0); return true }
                for f in frames.reversed() where going { try check(try f.events()) }
            } else {
                try reader.forEachFrame(from: indexedUpTo, to: logEnd) { frame in
                    try check(try frame.events())
                    return going
                }
            }
        }
        if descending {
            try tail()
            try indexed()
        } else {
            try indexed()
            try tail()
        }
    }

    /// The terms of an event's kind, thread and place, and of a value, computed once per
    /// distinct one: most events repeat a few places and values (bounded caches).
    private struct PlaceKey: Hashable { let kind: EventKind; let thread: UInt32; let code: UInt32 }
    private struct ValueKey: Hashable { let name: UInt32; let type: UInt32; let flags: UInt8; let text: String }
    private struct ValueFacts { let terms: Set<String>; let words: [String] }
    private var placeTerms: [PlaceKey: Set<String>] = [:]
    private var valueFacts: [ValueKey: ValueFacts] = [:]
    private static let cacheLimit = 1 << 16

    private func terms(ofPlace event: Event) -> Set<String> {
        let key = PlaceKey(kind: event.kind, thread: event.thread, code: event.code)
        if let t = placeTerms[key] { return t }
        var base = event
        base.values = []
        var t = Set<String>()
        Schema.terms(of: base, definitions: definitions, into: &t)
        if placeTerms.count >= Self.cacheLimit { placeTerms.removeAll(keepingCapacity: true) }
        placeTerms[key] = t
        return t
    }

    private func facts(of v: RecordedValue) -> ValueFacts {
        let key = ValueKey(name: v.name, type: v.type, flags: v.flags.rawValue & (ValueFlags.deleted.rawValue | ValueFlags.truncated.rawValue),
                           text: v.text)
        if let f = valueFacts[key] { return f }
        var t = Set<String>()
        Schema.valueTerms(v, definitions: definitions, into: &t)
        var words: [String] = []
        if !v.flags.contains(.deleted) {
            Tokenizer.forEachWord(in: Schema.searchText(v, typeName: definitions.typeName(v.type))) { words.append($0) }
        }
        let f = ValueFacts(terms: t, words: words)
        if valueFacts.count >= Self.cacheLimit { valueFacts.removeAll(keepingCapacity: true) }
        valueFacts[key] = f
        return f
    }

    /// The hit for `event`, or nil when it does not match.
    func verify(_ event: Event, _ program: QueryNode) -> Hit? {
        let place = terms(ofPlace: event)
        var lines = [event.line]
        if !event.values.isEmpty { lines.append(event.valueLine) }
        let values = event.values.map(facts(of:))
        let whole = EventFacts(termSets: [place] + values.map(\.terms), wordLists: values.map(\.words), seq: event.seq, lines: lines)
        guard whole.matches(program) else { return nil }
        var matched: [Int] = []
        if event.values.count > 0 {
            for (i, v) in values.enumerated() {
                let f = EventFacts(termSets: [place, v.terms], wordLists: [v.words], seq: event.seq, lines: lines)
                if f.matches(program) { matched.append(i) }
            }
            // Matched only through event-level terms: every value is part of the answer.
            if matched.count == event.values.count && !Self.mentionsValues(program) { matched = [] }
        }
        return Hit(event: event, matchedValues: matched)
    }

    /// Whether the query says anything about values (words, var:, type:, value:).
    static func mentionsValues(_ node: QueryNode) -> Bool {
        switch node {
        case .nothing, .all, .range: return false
        case .term(let t), .wildcard(let t): return Schema.isValueTerm(t)
        case .phrase, .near: return true
        case .and(let k), .or(let k), .andNot(let k), .xor(let k), .andMaybe(let k): return k.contains(where: mentionsValues)
        }
    }
}
