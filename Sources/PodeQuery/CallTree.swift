import PodeLog

/// One call of the run: its call event, its return (nil while it had not returned when the
/// recording stopped) and, when it returned no value, the exception it raised.
public struct CallRecord: Sendable {
    public var call: Event
    public var end: Event?
    public var raised: RecordedValue?

    public init(call: Event, end: Event?, raised: RecordedValue? = nil) {
        self.call = call
        self.end = end
        self.raised = raised
    }

    /// The value it returned, if it returned one.
    public var returned: RecordedValue? { end?.values.first { $0.name == ValueName.returnValue } }
}

/// The call tree, a level at a time: each question reads only the blocks that can answer it,
/// so unfolding one call of a huge run costs about as much as unfolding one of a small run.
extension TraceSearcher {
    /// The return of the frame that `call` (a call event) started, and what it raised.
    public func record(of call: Event) throws -> CallRecord {
        let end = try frameReturn(of: call)
        var record = CallRecord(call: call, end: end)
        if let end, record.returned == nil {
            let raised = try firstCandidate((["kind:exception", "seq:\(call.seq)..\(end.seq)"] + placeClauses(call.code)).joined(separator: " "),
                                            descending: true) {
                $0.activation == call.activation && $0.kind == .exception
            }
            record.raised = raised?.values.first { $0.name == ValueName.exception }
        }
        return record
    }

    /// The return event of the frame `call` started; nil when it had not returned when the
    /// recording stopped. A short call's return is in the next few blocks naming its function.
    /// A long one's is found by bisection: a (non-generator) frame is on its thread's stack
    /// from its call to its return and never again, so a few dozen probes find the return
    /// however many events the call ran.
    func frameReturn(of call: Event) throws -> Event? {
        let frame = call.activation
        let generator = definitions.codes[call.code]?.isGeneratorLike == true
        let query = try compile((["kind:return", "seq:\(call.seq).."] + placeClauses(call.code)).joined(separator: " "))
        var found: Event?
        var blocks = 0
        var exhausted = true
        try candidateEvents(query) { events in
            found = events.first { $0.activation == frame && $0.kind == .return && $0.seq > call.seq }
            blocks += 1
            if found == nil && !generator && blocks >= 4 { exhausted = false }
            return found == nil && exhausted
        }
        if found != nil || exhausted { return found }

        let thread = call.thread
        func firstEvent(from lo: UInt64, to hi: UInt64) throws -> Event? {
            try firstCandidate("thread:\(thread) seq:\(lo)..\(hi)") { $0.thread == thread && $0.seq >= lo && $0.seq <= hi }
        }
        /// Whether the frame is on the stack at `e` (an event of its thread after its call).
        func isOpen(_ e: Event) throws -> Bool {
            var activation = e.activation, code = e.code
            while activation > frame {
                guard let entry = try entry(of: activation, code: code, at: e.seq), entry.caller != 0,
                      let caller = try timeline.event(entry.caller) else { return false }
                activation = entry.caller
                code = caller.code
            }
            return activation == frame
        }
        guard let last = try firstCandidate("thread:\(thread)", descending: true, where: { $0.thread == thread }) else { return nil }
        if try isOpen(last) { return last.kind == .return && last.activation == frame ? last : nil }
        // `open` is on the stack; every event of the thread from `closed` on is not.
        var open = call
        var closed = last.seq
        while closed - open.seq > 1 {
            let mid = open.seq + (closed - open.seq) / 2
            if let e = try firstEvent(from: mid, to: closed - 1) {
                if try isOpen(e) { open = e } else { closed = e.seq }
            } else {
                closed = mid
            }
        }
        return open.kind == .return && open.activation == frame ? open : nil
    }

    /// The calls frame `parent` (its call event) made itself, in time order, from after event
    /// `after`: at most `limit`, and whether there are more. After each call the search goes on
    /// from its return, so the calls beneath it are never read.
    public func calls(madeBy parent: Event, after: UInt64 = 0, limit: Int) throws -> (calls: [CallRecord], more: Bool) {
        let end = try record(of: parent).end?.seq ?? UInt64.max
        return try calls(inThread: parent.thread, from: max(after + 1, parent.seq + 1), to: end, limit: limit) {
            $0.caller == parent.activation
        }
    }

    /// The outermost calls of the run (a thread's first frame, and any call made with nothing
    /// above it), in time order from after event `after`: at most `limit`, and whether there
    /// are more.
    public func rootCalls(after: UInt64 = 0, limit: Int) throws -> (calls: [CallRecord], more: Bool) {
        var found: [CallRecord] = []
        var more = false
        for thread in definitions.threads.keys.sorted() {
            let (calls, m) = try calls(inThread: thread, from: after + 1, to: .max, limit: limit) { $0.caller == 0 }
            found += calls
            more = more || m
        }
        found.sort { $0.call.seq < $1.call.seq }
        if found.count > limit {
            found.removeLast(found.count - limit)
            more = true
        }
        return (found, more)
    }

    /// The calls in `thread` between events `lo` and `hi` that `accept` takes, skipping the
    /// inside of each one found.
    private func calls(inThread thread: UInt32, from lo: UInt64, to hi: UInt64, limit: Int,
                       where accept: (Event) -> Bool) throws -> (calls: [CallRecord], more: Bool) {
        var found: [CallRecord] = []
        var from = lo
        while from <= hi {
            let range = "seq:\(from)..\(hi == .max ? "" : String(hi))"
            guard let call = try firstCandidate("kind:call thread:\(thread) \(range)", where: {
                $0.kind == .call && $0.thread == thread && $0.seq >= from && $0.seq <= hi && accept($0)
            }) else { break }
            if found.count == limit { return (found, true) }
            let record = try record(of: call)
            found.append(record)
            guard let end = record.end else { break }
            from = end.seq + 1
        }
        return (found, false)
    }
}
