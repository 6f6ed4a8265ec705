import PodeLog

/// What `grep` looks at besides the pattern: exact filters on the event and the value.
public struct GrepFilters: Sendable {
    public var file: String?
    public var function: String?
    public var variable: String?
    public var kind: EventKind?

    public init(file: String? = nil, function: String? = nil, variable: String? = nil, kind: EventKind? = nil) {
        self.file = file
        self.function = function
        self.variable = variable
        self.kind = kind
    }
}

extension TraceSearcher {
    /// The text grep matches for a value: `name = value`, or `name deleted`.
    public func grepLine(_ v: RecordedValue) -> String {
        let name = definitions.valueName(v.name)
        return v.flags.contains(.deleted) ? name + " deleted" : name + " = " + v.text
    }

    /// Words of a grep line that are not in the index (reserved names, `deleted`).
    static let unindexedWords: Set<String> = ["return", "exception", "yield", "deleted"]

    /// The query that narrows grep's candidates to blocks holding the pattern's literal words
    /// and the filters; nil when nothing narrows them (every event is checked).
    public func grepQuery(_ pattern: GrepPattern, _ filters: GrepFilters) throws -> CompiledQuery? {
        let (words, allPrefixes) = pattern.requiredWords()
        var clauses = words.filter { !Self.unindexedWords.contains($0) }
        // A prefix such words may complete ("del" of "x deleted") narrows nothing either.
        let prefixes = allPrefixes.filter { p in !Self.unindexedWords.contains { $0.hasPrefix(p) } }
        let longest = prefixes.map(\.count).max() ?? 0
        // A short prefix expands to many terms: use it only when nothing better narrows.
        for p in prefixes where p.count >= 3 || (clauses.isEmpty && p.count >= 2 && p.count == longest) {
            clauses.append(p + "*")
        }
        if let f = filters.file, let c = Self.clause("file", f) { clauses.append(c) }
        if let f = filters.function, let c = Self.clause("func", f) { clauses.append(c) }
        if let v = filters.variable, let c = Self.clause("var", v) { clauses.append(c) }
        if let k = filters.kind { clauses.append("kind:" + k.name) }
        guard !clauses.isEmpty else { return nil }
        return try compile(clauses.joined(separator: " "))
    }

    /// The values of `event` whose grep line the pattern matches, within the filters.
    public func grepMatches(_ event: Event, _ pattern: GrepPattern, _ filters: GrepFilters) -> [Int] {
        if let k = filters.kind, event.kind != k { return [] }
        if filters.file != nil || filters.function != nil {
            guard let code = definitions.codes[event.code] else { return [] }
            if let f = filters.file, code.file != f, !code.file.hasSuffix("/" + f) { return [] }
            if let f = filters.function, code.qualname != f, code.name != f { return [] }
        }
        var out: [Int] = []
        for (i, v) in event.values.enumerated() {
            if let name = filters.variable, definitions.valueName(v.name) != name { continue }
            if pattern.matches(grepLine(v)) { out.append(i) }
        }
        return out
    }

    /// Calls `body` with each event a value of which matches, in time order, until it returns false.
    public func grep(_ pattern: GrepPattern, _ filters: GrepFilters, _ body: (Hit) throws -> Bool) throws {
        let segments: [Int]
        if let query = try grepQuery(pattern, filters) {
            segments = try candidateSegments(query)
        } else {
            segments = Array(0..<timeline.segmentCount)
        }
        let literal = payloadLiteral(pattern)
        for index in segments {
            for e in try timeline.events(inSegment: index, framesHolding: literal) {
                let matched = grepMatches(e, pattern, filters)
                if !matched.isEmpty, try !body(Hit(event: e, matchedValues: matched)) { return }
            }
        }
    }

    /// Bytes every matching event's frame holds as the log stores it: the longest of the
    /// pattern's required literals that can only lie within a value's text, never in part in
    /// the `name = ` or `name deleted` of a grep line (the log holds names as numbers). A frame
    /// without them has no match and is not decoded. Nil when no literal is such.
    func payloadLiteral(_ pattern: GrepPattern) -> [UInt8]? {
        let literals = pattern.requiredLiterals().map { Array($0.utf8) }.filter { !$0.isEmpty }
        guard !literals.isEmpty else { return nil }
        let reserved = [ValueName.returnValue, ValueName.exception, ValueName.yieldValue].map(definitions.valueName)
        let names = reserved + Array(definitions.names.values) + ["?"]
        let decorations = names.flatMap { [Array(($0 + " = ").utf8), Array(($0 + " deleted").utf8)] }
        return literals.filter { literal in !decorations.contains { Self.mayOverlap(literal, $0) } }.max { $0.count < $1.count }
    }

    /// Whether `literal` can lie in a grep line wholly or in part within `decoration`, which
    /// starts the line: inside it, or beginning in it and going on past its end.
    static func mayOverlap(_ literal: [UInt8], _ decoration: [UInt8]) -> Bool {
        if decoration.count >= literal.count {
            for start in 0...(decoration.count - literal.count) where decoration[start..<start + literal.count].elementsEqual(literal) { return true }
        }
        for k in 1...min(literal.count, decoration.count) where decoration.suffix(k).elementsEqual(literal.prefix(k)) { return true }
        return false
    }
}
