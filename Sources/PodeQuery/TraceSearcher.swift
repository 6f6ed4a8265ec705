import Foundation
import PodeIndex
import PodeLog
import XapianKit

/// A search hit: an event, and which of its values matched (empty when the event matched
/// through its kind, place or thread rather than a particular value).
public struct Hit: Sendable {
    public let event: Event
    public let matchedValues: [Int]

    public init(event: Event, matchedValues: [Int]) {
        self.event = event
        self.matchedValues = matchedValues
    }
}

/// A query compiled once and run against a trace.
public struct CompiledQuery {
    public let text: String
    let xapian: XapianQuery
    let program: QueryNode
    /// Whether the program can match a value's text (a word, an exact value, a phrase): if not,
    /// events are checked without splitting their values' texts.
    let needsValueTexts: Bool
    /// Text terms every hit holds (see TraceSearcher.requiredTextTerms): a block whose summary
    /// lacks one is skipped unread.
    let requiredTextTerms: [String]

    init(text: String, xapian: XapianQuery, program: QueryNode) {
        self.text = text
        self.xapian = xapian
        self.program = program
        needsValueTexts = program.usesValueTexts
        requiredTextTerms = needsValueTexts ? TraceSearcher.requiredTextTerms(program) : []
    }

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
    /// Block summaries (see BlockSummary), mapped after the index is opened so that every
    /// summary a committed document points at is in the mapping.
    let summaries: MappedFile?
    /// The run in time order, as far as it was written when the searcher opened.
    public let timeline: Timeline
    private let parser = XapianQueryParser(fields: Schema.queryFields)

    public init(trace: TraceDirectory) throws {
        self.trace = trace
        metadata = try trace.readMetadata()
        reader = try LogReader(directory: trace.path)
        let logEnd = try reader.eventsSize()
        // Definitions are written before the events that use them: read them after the size.
        definitions = try reader.definitions()
        var db: XapianDatabase? = nil
        var upTo = LogReader.firstFrameOffset
        // An index of an older form would miss what its terms spell differently: read the log.
        if let opened = try? XapianDatabase(path: trace.indexPath), (try? opened.metadata(Schema.Metadata.formatVersion)) == Schema.indexFormat {
            db = opened
            upTo = Int(try opened.metadata(Schema.Metadata.indexedUpTo) ?? "") ?? LogReader.firstFrameOffset
        }
        database = db
        summaries = db == nil ? nil : try? MappedFile(path: trace.path + "/" + TraceFormat.summariesFile)
        timeline = try Timeline(reader: reader, database: db, indexedUpTo: min(upTo, logEnd), logEnd: logEnd)
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

    /// The segments (see Timeline) that may hold events matching `query`, in time order or
    /// newest first: the index's candidate blocks, and every frame of the unindexed tail.
    public func candidateSegments(_ query: CompiledQuery, descending: Bool = false) throws -> [Int] {
        var indexed: [Int] = []
        if let database, timeline.indexedBlocks > 0 {
            let matches = try database.search(query.xapian, limit: timeline.indexedBlocks, descending: descending)
            indexed = matches.docids.map { timeline.segmentIndex(ofDocid: $0) }.filter { $0 < timeline.indexedBlocks }
        }
        let tail = Array(timeline.indexedBlocks..<timeline.segmentCount)
        return descending ? tail.reversed() + indexed : indexed + tail
    }

    /// Calls `body` with the events of each candidate segment of `query` (not yet checked
    /// against it), in time order or newest first, until it returns false.
    public func candidateEvents(_ query: CompiledQuery, descending: Bool = false, _ body: ([Event]) throws -> Bool) throws {
        for index in try candidateSegments(query, descending: descending) where blockMayHold(index, required: query.requiredTextTerms) {
            if try !body(try timeline.events(inSegment: index)) { return }
        }
    }

    /// Calls `body` with every hit in time order (newest first with `descending`) until it
    /// returns false.
    public func search(_ query: CompiledQuery, descending: Bool = false, _ body: (Hit) throws -> Bool) throws {
        var going = true
        try candidateEvents(query, descending: descending) { events in
            if descending {
                for e in events.reversed() where going {
                    if let hit = verify(e, query) { going = try body(hit) }
                }
            } else {
                for e in events where going {
                    if let hit = verify(e, query) { going = try body(hit) }
                }
            }
            return going
        }
    }

    /// `search` over events `lo...hi` only: blocks outside the range are never read, and each
    /// hit is checked against `query` itself (nothing is pasted into the user's query text).
    /// Before reading each block after the first it asks `stop`; when that says to stop, it returns where the
    /// search got to: every event before it (ascending) or after it (descending) was checked.
    /// Nil when the search ran to the end of the range or `body` ended it.
    @discardableResult
    public func search(_ query: CompiledQuery, from lo: UInt64, to hi: UInt64 = .max, descending: Bool = false,
                       stop: () -> Bool = { false }, _ body: (Hit) throws -> Bool) throws -> UInt64? {
        guard lo <= hi, let last = try timeline.segmentIndex(containing: hi) else { return nil }
        let first = try timeline.segmentIndex(containing: lo) ?? 0
        var going = true
        var read = false  // one block at least, so that every call makes progress
        for index in try candidateSegments(query, descending: descending) where going && index >= first && index <= last {
            if !blockMayHold(index, required: query.requiredTextTerms) { continue }
            if read && stop() {
                if descending { return index < last ? try timeline.segment(index + 1).firstSeq - 1 : hi }
                return max(lo, try timeline.segment(index).firstSeq)
            }
            read = true
            let events = try timeline.events(inSegment: index)
            var i = descending ? events.count - 1 : 0
            while going && i >= 0 && i < events.count {
                let e = events[i]
                if e.seq >= lo && e.seq <= hi, let hit = verify(e, query) { going = try body(hit) }
                i += descending ? -1 : 1
            }
        }
        return nil
    }

    /// The terms of an event's kind, thread and place, of a value's name and type, and of a
    /// value's text, computed once per distinct one: most events repeat a few places, names and
    /// texts (bounded caches). A value's terms are its shape's set and its text's set.
    private struct PlaceKey: Hashable { let kind: EventKind; let thread: UInt32; let code: UInt32 }
    private struct ShapeKey: Hashable { let name: UInt32; let type: UInt32; let deleted: Bool }
    private struct TextKey: Hashable { let type: UInt32; let truncated: Bool; let text: String }
    private struct TextFacts { let terms: Set<String>; let words: [String] }
    private struct ValueFacts { let terms: [Set<String>]; let words: [String] }
    private var placeTerms: [PlaceKey: Set<String>] = [:]
    private var shapeTerms: [ShapeKey: Set<String>] = [:]
    private var textFacts: [TextKey: TextFacts] = [:]
    private static let cacheLimit = 1 << 16
    private var nameWordCache: [UInt32: Set<String>] = [:]

    /// The terms a variable's name gives (its V term and its words).
    func nameWords(_ name: UInt32) -> Set<String> {
        if let known = nameWordCache[name] { return known }
        var t = Set<String>()
        Schema.shapeTerms(name: name, type: 0, deleted: true, definitions: definitions, into: &t)
        nameWordCache[name] = t
        return t
    }

    func terms(ofPlace event: Event) -> Set<String> {
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

    private func facts(of v: RecordedValue, withText: Bool) -> ValueFacts {
        let deleted = v.flags.contains(.deleted)
        let shapeKey = ShapeKey(name: v.name, type: v.type, deleted: deleted)
        let shape: Set<String>
        if let known = shapeTerms[shapeKey] { shape = known } else {
            var t = Set<String>()
            Schema.shapeTerms(name: v.name, type: v.type, deleted: deleted, definitions: definitions, into: &t)
            if shapeTerms.count >= Self.cacheLimit { shapeTerms.removeAll(keepingCapacity: true) }
            shapeTerms[shapeKey] = t
            shape = t
        }
        if deleted || !withText { return ValueFacts(terms: [shape], words: []) }
        let textKey = TextKey(type: v.type, truncated: v.flags.contains(.truncated), text: v.text)
        if let known = textFacts[textKey] { return ValueFacts(terms: [shape, known.terms], words: known.words) }
        var t = Set<String>()
        Schema.valueTextTerms(v, definitions: definitions, into: &t)
        var words: [String] = []
        Tokenizer.forEachWord(in: Schema.searchText(v, typeName: definitions.typeName(v.type))) { words.append($0) }
        if textFacts.count >= Self.cacheLimit { textFacts.removeAll(keepingCapacity: true) }
        textFacts[textKey] = TextFacts(terms: t, words: words)
        return ValueFacts(terms: [shape, t], words: words)
    }

    /// The hit for `event`, or nil when it does not match.
    func verify(_ event: Event, _ query: CompiledQuery) -> Hit? {
        let values = event.values.map { facts(of: $0, withText: query.needsValueTexts) }
        return Self.hit(event, query.program, place: terms(ofPlace: event), valueTerms: values.map(\.terms), valueWords: values.map(\.words))
    }

    /// The hit for `event` given the terms of its place and of each value (as one or more sets,
    /// and each value's words, for phrases), or nil when it does not match.
    static func hit(_ event: Event, _ program: QueryNode, place: Set<String>, valueTerms: [[Set<String>]], valueWords: [[String]]) -> Hit? {
        var lines = [event.line]
        if !event.values.isEmpty { lines.append(event.valueLine) }
        let whole = EventFacts(termSets: [place] + valueTerms.joined(), wordLists: valueWords, seq: event.seq, lines: lines)
        guard whole.matches(program) else { return nil }
        var matched: [Int] = []
        if event.values.count > 0 {
            for i in valueTerms.indices {
                let f = EventFacts(termSets: [place] + valueTerms[i], wordLists: valueWords.isEmpty ? [] : [valueWords[i]], seq: event.seq, lines: lines)
                if f.matches(program) { matched.append(i) }
            }
            // Matched only through event-level terms: every value is part of the answer.
            if matched.count == event.values.count && !mentionsValues(program) { matched = [] }
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
