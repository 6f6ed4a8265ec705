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
        let frame = call.activation
        let place = placeClauses(call.code)
        let end = try firstCandidate((["kind:return", "seq:\(call.seq).."] + place).joined(separator: " ")) {
            $0.activation == frame && $0.kind == .return
        }
        var record = CallRecord(call: call, end: end)
        if let end, record.returned == nil {
            let raised = try firstCandidate((["kind:exception", "seq:\(call.seq)..\(end.seq)"] + place).joined(separator: " "), descending: true) {
                $0.activation == frame && $0.kind == .exception
            }
            record.raised = raised?.values.first { $0.name == ValueName.exception }
        }
        return record
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
