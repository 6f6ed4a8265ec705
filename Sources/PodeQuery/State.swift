import PodeIndex
import PodeLog

/// One frame of the call stack at a moment of the run.
public struct StackFrame: Sendable {
    /// The frame's number: the seq of its first event (its call).
    public var activation: UInt64
    public var code: UInt32
    public var thread: UInt32
    public var depth: UInt32
    /// The line it is at: the event's line for the innermost frame, else the line of the call
    /// it is waiting on.
    public var line: UInt32
    /// What started this run of the frame: its call, or its latest resume (a generator); nil when
    /// the frame was already running when recording began.
    public var entry: Event?
}

/// A variable's value at a moment: the value recorded by its last change at or before it.
public struct LocalValue: Sendable {
    public var value: RecordedValue
    /// The event that recorded the change, and the line that made it.
    public var setAt: UInt64
    public var line: UInt32
}

extension TraceSearcher {
    /// A query clause `field:"value"` built for the query parser (nil when `value` cannot be
    /// quoted; callers check what the clause narrows exactly anyway).
    public static func clause(_ field: String, _ value: String) -> String? {
        value.contains("\"") || value.isEmpty ? nil : "\(field):\"\(value)\""
    }

    /// Clauses that narrow a query to the events of one code object.
    func placeClauses(_ code: UInt32) -> [String] {
        guard let c = definitions.codes[code] else { return [] }
        return [Self.clause("func", c.qualname), Self.clause("file", c.file)].compactMap { $0 }
    }

    /// The call stack at `event`, innermost frame first.
    public func stack(at event: Event) throws -> [StackFrame] {
        var frames: [StackFrame] = []
        var activation = event.activation
        var code = event.code
        var line = event.line
        var depth = event.depth
        while frames.count < 100_000 {
            let entry = try self.entry(of: activation, code: code, at: event.seq)
            frames.append(StackFrame(activation: activation, code: code, thread: event.thread, depth: depth, line: line, entry: entry))
            guard let entry, entry.caller != 0, let callerStart = try timeline.event(entry.caller) else { break }
            activation = entry.caller
            code = callerStart.code
            line = entry.callerLine
            depth = depth > 0 ? depth - 1 : 0
        }
        return frames
    }

    /// The call or latest resume of frame `activation` at or before `seq`.
    func entry(of activation: UInt64, code: UInt32, at seq: UInt64) throws -> Event? {
        guard definitions.codes[code]?.isGeneratorLike == true else {
            guard let first = try timeline.event(activation), first.kind == .call, first.activation == activation else { return nil }
            return first
        }
        let text = (["(kind:call OR kind:resume)", "seq:\(activation)..\(seq)"] + placeClauses(code)).joined(separator: " ")
        return try firstCandidate(text, descending: true) {
            $0.seq <= seq && $0.seq >= activation && $0.activation == activation && ($0.kind == .call || $0.kind == .resume)
        }
    }

    /// The first event (the last with `descending`) of the candidate blocks of query `text` that
    /// `accept` takes: the query narrows, `accept` decides exactly.
    func firstCandidate(_ text: String, descending: Bool = false, where accept: (Event) -> Bool) throws -> Event? {
        var found: Event?
        try candidateEvents(try compile(text), descending: descending) { events in
            found = descending ? events.last(where: accept) : events.first(where: accept)
            return found == nil
        }
        return found
    }

    /// The variables `frame` held at event `seq`, each with the change that set it, in the order
    /// the code declares them (arguments first); names not bound at that moment are left out.
    public func locals(of frame: StackFrame, at seq: UInt64) throws -> [LocalValue] {
        guard let code = definitions.codes[frame.code] else { return [] }
        var order: [UInt32] = []
        var wanted = Set<UInt32>()
        for id in code.names where !(definitions.names[id] ?? ".").hasPrefix(".") && wanted.insert(id).inserted {
            order.append(id)
        }
        guard !order.isEmpty else { return [] }
        var found: [UInt32: LocalValue] = [:]
        var remaining = wanted
        /// Newest change first, over the candidate blocks of `names`, until all are found or
        /// `blocks` blocks were read.
        func lookUp(_ names: [UInt32], blocks: Int) throws {
            let clauses = names.compactMap { definitions.names[$0].flatMap { Self.clause("var", $0) } }
            guard !clauses.isEmpty else { return }
            let text = (["(" + clauses.joined(separator: " OR ") + ")", "seq:\(frame.activation)..\(seq)"] + placeClauses(frame.code))
                .joined(separator: " ")
            var read = 0
            try candidateEvents(try compile(text), descending: true) { events in
                for e in events.reversed() where e.seq <= seq && e.seq >= frame.activation && e.activation == frame.activation {
                    for v in e.values where remaining.contains(v.name) {
                        remaining.remove(v.name)
                        found[v.name] = LocalValue(value: v, setAt: e.seq, line: e.valueLine)
                    }
                    if remaining.isEmpty { return false }
                }
                read += 1
                return read < blocks
            }
        }
        // Most variables changed lately: a few blocks back find them all at once. Each one left
        // is looked up on its own, so a variable set long ago costs only the blocks naming it.
        try lookUp(order, blocks: 2)
        for id in order where remaining.contains(id) { try lookUp([id], blocks: .max) }
        return order.compactMap { found[$0] }.filter { !$0.value.flags.contains(.deleted) }
    }
}
