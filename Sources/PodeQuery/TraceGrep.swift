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
        let (words, prefixes) = pattern.requiredWords()
        var clauses = words.filter { !Self.unindexedWords.contains($0) }
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
        for index in segments {
            for e in try timeline.events(inSegment: index) {
                let matched = grepMatches(e, pattern, filters)
                if !matched.isEmpty, try !body(Hit(event: e, matchedValues: matched)) { return }
            }
        }
    }
}
