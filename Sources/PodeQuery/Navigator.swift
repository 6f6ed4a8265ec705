import PodeLog

/// Moves through a recorded run the way a debugger steps, forwards and backwards: every answer
/// comes from the trace, nothing is run again.
public final class Navigator {
    public let searcher: TraceSearcher
    /// Where the navigator is.
    public private(set) var current: Event
    /// The call stack at `current`, innermost first (computed when first asked for).
    private var cachedStack: [StackFrame]?
    /// The frame `up` and `down` selected: 0 is the innermost.
    public private(set) var selected = 0
    /// What `continue` and `rcontinue` stop at: a query, and breakpoints.
    public private(set) var query: String?
    public private(set) var breakpoints: [Breakpoint] = []

    public enum Breakpoint: CustomStringConvertible, Sendable {
        case line(file: String, line: UInt32)
        case function(String)

        public var description: String {
            switch self {
            case .line(let f, let l): "\(f):\(l)"
            case .function(let f): f
            }
        }
    }

    public init(searcher: TraceSearcher, at event: Event) {
        self.searcher = searcher
        current = event
    }

    public func stack() throws -> [StackFrame] {
        if let s = cachedStack { return s }
        let s = try searcher.stack(at: current)
        cachedStack = s
        return s
    }

    public func selectedFrame() throws -> StackFrame? {
        let s = try stack()
        return s.isEmpty ? nil : s[min(selected, s.count - 1)]
    }

    /// Moves to `event` (selecting its innermost frame).
    public func move(to event: Event) {
        current = event
        cachedStack = nil
        selected = 0
    }

    /// Selects an outer (`up`) or inner frame; false at the end of the stack.
    public func select(outer: Bool) throws -> Bool {
        let count = try stack().count
        let next = selected + (outer ? 1 : -1)
        guard next >= 0 && next < count else { return false }
        selected = next
        return true
    }

    /// The first event in `direction` from the current one that `accept` takes.
    private func find(forward: Bool, _ accept: (Event) -> Bool) throws -> Event? {
        var found: Event?
        try searcher.timeline.walk(from: current.seq, forward: forward) { e in
            if accept(e) { found = e; return false }
            return true
        }
        return found
    }

    /// The next (or previous) event of this thread: pdb's `step` (and `back`).
    public func step(forward: Bool = true) throws -> Event? {
        let thread = current.thread
        return try find(forward: forward) { $0.thread == thread }
    }

    /// The next (or previous) event of the selected frame, stepping over calls; from the frame's
    /// last event (its return or yield), or back from its first, the caller's: pdb's `next` (and
    /// `rnext`). The index finds the frame's next event, however long the call stepped over.
    public func next(forward: Bool = true) throws -> Event? {
        guard let frame = try selectedFrame() else { return try step(forward: forward) }
        let leaving: Set<EventKind> = forward ? [.return, .yield] : [.call, .resume]
        if current.activation == frame.activation && leaving.contains(current.kind) { return try step(forward: forward) }
        let seq = current.seq
        let range = forward ? "seq:\(seq + 1).." : "seq:..\(seq > 0 ? seq - 1 : 0)"
        return try searcher.firstCandidate(([range] + searcher.placeClauses(frame.code)).joined(separator: " "), descending: !forward) {
            $0.activation == frame.activation && (forward ? $0.seq > seq : $0.seq < seq)
        }
    }

    /// The selected frame's return (or yield) event: pdb's `return`.
    public func finish() throws -> Event? {
        guard let frame = try selectedFrame() else { return nil }
        let seq = current.seq
        // A generator's frame finishes this run at its next yield; any other frame at its return.
        if definitions(frame.code)?.isGeneratorLike != true, let call = try searcher.timeline.event(frame.activation),
           call.kind == .call, call.activation == frame.activation {
            return try searcher.frameReturn(of: call).flatMap { $0.seq > seq ? $0 : nil }
        }
        let clauses = ["(kind:return OR kind:yield)", "seq:\(seq + 1).."] + searcher.placeClauses(frame.code)
        return try searcher.firstCandidate(clauses.joined(separator: " ")) {
            $0.seq > seq && $0.activation == frame.activation && ($0.kind == .return || $0.kind == .yield)
        }
    }

    private func definitions(_ code: UInt32) -> CodeDefinition? { searcher.definitions.codes[code] }

    /// The selected frame's call (or the resume that started its current run): `rfinish`.
    public func callOfFrame() throws -> Event? {
        guard let frame = try selectedFrame() else { return nil }
        if let entry = frame.entry, entry.seq < current.seq || selected > 0 { return entry }
        // Already at the entry: the call of the frame around it.
        let s = try stack()
        return selected + 1 < s.count ? s[selected + 1].entry : nil
    }

    public func setQuery(_ text: String?) throws {
        if let text { _ = try searcher.compile(text) }
        query = text
    }

    public func addBreakpoint(_ b: Breakpoint) { breakpoints.append(b) }
    public func clearBreakpoints() { breakpoints.removeAll() }

    /// The query that `continue` stops at: the search, or any breakpoint.
    func stopQuery() -> String? {
        var parts: [String] = []
        if let query { parts.append("(\(query))") }
        for b in breakpoints {
            switch b {
            case .line(let file, let line):
                if let f = TraceSearcher.clause("file", file) { parts.append("(\(f) kind:line line:\(line)..\(line))") }
            case .function(let name):
                if let f = TraceSearcher.clause("func", name) { parts.append("(\(f) kind:call)") }
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: " OR ")
    }

    /// Whether `e` is a breakpoint's own event (the index narrows by block, so check exactly).
    func stopsAtBreakpoint(_ e: Event) -> Bool {
        guard let code = searcher.definitions.codes[e.code] else { return false }
        for b in breakpoints {
            switch b {
            case .line(let file, let line):
                if e.kind == .line && e.line == line && (code.file == file || code.file.hasSuffix("/" + file)) { return true }
            case .function(let name):
                if e.kind == .call && (code.qualname == name || code.name == name) { return true }
            }
        }
        return false
    }

    /// The next (or previous) hit of the search or a breakpoint; nil when there is none, and
    /// the last (or first) event when nothing is set, as pdb's continue runs to the end.
    public func proceed(forward: Bool = true) throws -> Event? {
        guard let stop = stopQuery() else {
            return forward ? try searcher.timeline.lastEvent() : try searcher.timeline.firstEvent()
        }
        let compiled = try searcher.compile(stop)
        let search = try query.map { try searcher.compile($0) }
        let seq = current.seq
        guard forward || seq > 0 else { return nil }
        var found: Event?
        try searcher.search(compiled, from: forward ? seq + 1 : 0, to: forward ? .max : seq - 1, descending: !forward) { hit in
            let e = hit.event
            let byQuery = search.map { searcher.verify(e, $0) != nil } ?? false
            if byQuery || stopsAtBreakpoint(e) { found = e; return false }
            return true
        }
        return found
    }

    /// The value of `name` in the selected frame at the current event, or in the module's
    /// variables when the frame has no such local (Python's lookup order).
    public func value(of name: String) throws -> LocalValue? {
        guard let frame = try selectedFrame() else { return nil }
        var frames = [frame]
        if let module = try stack().last, module.activation != frame.activation { frames.append(module) }
        for f in frames {
            if let v = try searcher.locals(of: f, at: current.seq).first(where: { searcher.definitions.valueName($0.value.name) == name }) {
                return v
            }
        }
        return nil
    }
}
