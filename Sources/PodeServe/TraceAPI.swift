import Foundation
import PodeLog
import PodeQuery

/// A request the API cannot answer: the HTTP status to send and a message a user can act on.
public struct APIError: Error, CustomStringConvertible, Sendable {
    public let status: Int
    public let message: String
    public var description: String { message }

    public static func badRequest(_ message: String) -> APIError { APIError(status: 400, message: message) }
    public static func notFound(_ message: String) -> APIError { APIError(status: 404, message: message) }
}

/// The info browser's answers about one trace, as JSON objects (the layouts are in
/// docs/serve.md). Every answer is bounded: lists come in pages, sources in windows.
/// Not thread-safe; TraceLibrary hands it to one request at a time.
public final class TraceAPI {
    public let id: String
    public let searcher: TraceSearcher
    private let sources: SourceLines
    /// The most hits, changes or calls one page may hold.
    public static let maxPage = 500
    /// A kept source longer than this is sent as a window of this many lines around the moment.
    public static let maxSourceLines = 2000

    public init(id: String, trace: TraceDirectory) throws {
        self.id = id
        searcher = try TraceSearcher(trace: trace)
        sources = SourceLines(trace: trace, metadata: searcher.metadata)
    }

    private var definitions: Definitions { searcher.definitions }

    /// What the trace is: its command, state and size.
    public func info() throws -> [String: Any] {
        let m = searcher.metadata
        var d: [String: Any] = [
            "id": id, "path": searcher.trace.path, "arguments": m.arguments, "working_directory": m.workingDirectory,
            "python": m.python, "started": ISO8601DateFormatter().string(from: m.started), "state": m.state,
            "first_seq": try searcher.timeline.firstEvent()?.seq ?? 0, "last_seq": try searcher.timeline.lastEvent()?.seq ?? 0,
            "threads": definitions.threads.count, "files": m.sources.keys.sorted(), "facets": FacetCounter.names,
        ]
        if let status = m.exitStatus { d["exit_status"] = status }
        return d
    }

    private func compile(_ q: String) throws -> CompiledQuery {
        do {
            return try searcher.compile(q)
        } catch let e as QueryError {
            throw APIError.badRequest(e.description)
        }
    }

    /// A page of hits of `q` in time order: the first page, the page after event `after`, or
    /// the page before event `before`.
    public func search(_ q: String, after: UInt64?, before: UInt64?, limit: Int) throws -> [String: Any] {
        let query = try compile(q)
        var hits: [Hit] = []
        var moreBefore = false, moreAfter = false
        if let before {
            if before > 0 {
                try searcher.search(query, from: 0, to: before - 1, descending: true) { hit in
                    hits.append(hit)
                    return hits.count <= limit
                }
            }
            if hits.count > limit { hits.removeLast(); moreBefore = true }
            hits.reverse()
            moreAfter = try any(query, from: before, to: .max)
        } else {
            try searcher.search(query, from: after.map { $0 + 1 } ?? 0) { hit in
                hits.append(hit)
                return hits.count <= limit
            }
            if hits.count > limit { hits.removeLast(); moreAfter = true }
            if let after { moreBefore = try any(query, from: 0, to: after) }
        }
        return ["query": q, "hits": hits.map { JSONForm.hit($0, definitions: definitions) },
                "more_before": moreBefore, "more_after": moreAfter]
    }

    /// Whether `query` has a hit among events `lo...hi`.
    private func any(_ query: CompiledQuery, from lo: UInt64, to hi: UInt64) throws -> Bool {
        var found = false
        try searcher.search(query, from: lo, to: hi) { _ in found = true; return false }
        return found
    }

    /// How many events match `q`, and how many per file, function, variable, kind, type and
    /// thread (counted from block summaries where they can answer).
    public func facets(_ q: String) throws -> [String: Any] {
        let query = try compile(q)
        var counter = FacetCounter(definitions: definitions, facets: FacetCounter.names)
        var total = 0
        try searcher.tally(query) { hit, n in
            total += n
            counter.add(hit, times: n)
        }
        var facets = counter.result
        // Every event of a trace is its one process's: pode does not follow forked children yet.
        if total > 0 { facets["process"] = [String(searcher.metadata.pid): total] }
        return ["query": q, "total": total, "facets": facets]
    }

    /// Where the hits of `q` fall: the run's events split into `buckets` equal stretches, with
    /// the number of hits in each.
    public func timeline(_ q: String, buckets: Int) throws -> [String: Any] {
        let query = try compile(q)
        let first = try searcher.timeline.firstEvent()?.seq ?? 0
        let last = try searcher.timeline.lastEvent()?.seq ?? 0
        let span = last >= first ? last - first + 1 : 0
        let n = Int(min(UInt64(max(1, buckets)), max(1, span)))
        func bucket(_ seq: UInt64) -> Int {
            guard span > 0, seq >= first else { return 0 }
            return min(n - 1, Int((seq - first) * UInt64(n) / span))
        }
        var counts = [Int](repeating: 0, count: n)
        // A block may be counted from its summary only when it lies in one bucket.
        try searcher.tally(query, summarizing: { bucket($0.firstSeq) == bucket($0.lastSeq) }) { hit, count, segment in
            counts[bucket(max(hit.event.seq, segment.firstSeq))] += count
        }
        let width = Double(span) / Double(n)
        let list = counts.enumerated().map { i, c -> [String: Any] in
            ["from": first + UInt64((Double(i) * width).rounded(.down)), "hits": c]
        }
        return ["query": q, "first_seq": first, "last_seq": last, "buckets": list]
    }

    private func event(_ seq: UInt64) throws -> Event {
        guard let e = try searcher.timeline.event(seq) else {
            let last = try searcher.timeline.lastEvent()?.seq ?? 0
            throw APIError.notFound("there is no event #\(seq) in this trace (it has events #1 to #\(last))")
        }
        return e
    }

    /// One event, as a search hit shows it.
    public func event(seq: UInt64) throws -> [String: Any] {
        JSONForm.hit(Hit(event: try event(seq), matchedValues: []), definitions: definitions)
    }

    /// The moment at event `seq`: the event, the source of its file (a window around the
    /// line when the file is long), the stack, and the locals of frame `frame` (0 is the
    /// innermost).
    public func moment(seq: UInt64, frame: Int) throws -> [String: Any] {
        let e = try event(seq)
        let stackDepth = try searcher.stack(at: e).count
        let selected = min(max(0, frame), max(0, stackDepth - 1))
        let m = try Moment(searcher: searcher, event: e, allFrames: false, selected: selected)
        let file = definitions.codes[e.code]?.file ?? "?"
        let long = sources.lines(of: file).count > Self.maxSourceLines
        var d = JSONForm.moment(m, searcher: searcher, sources: sources, context: long ? Self.maxSourceLines / 2 : nil)
        d["selected_frame"] = selected
        if let f = m.stack.indices.contains(selected) ? m.stack[selected] : nil, let code = definitions.codes[f.code] {
            d["selected"] = ["frame": f.activation, "function": code.qualname, "file": code.file, "line": f.line]
        }
        return d
    }

    /// The ways to move from a moment, as `step` takes them.
    public static let moves = ["step", "back", "next", "prev", "out", "rout", "hit", "rhit", "first", "last"]

    /// Where a move from event `seq` lands: `step`/`back` (the next or previous event of the
    /// thread), `next`/`prev` (over calls, in frame `frame`), `out` (the frame's return) and
    /// `rout` (its call), `hit`/`rhit` (the next or previous hit of `q`), `first`/`last`.
    public func step(from seq: UInt64, move: String, frame: Int, query q: String?) throws -> [String: Any] {
        let navigator = Navigator(searcher: searcher, at: try event(seq))
        for _ in 0..<max(0, frame) where try !navigator.select(outer: true) { break }
        let target: Event?
        switch move {
        case "step": target = try navigator.step(forward: true)
        case "back": target = try navigator.step(forward: false)
        case "next": target = try navigator.next(forward: true)
        case "prev": target = try navigator.next(forward: false)
        case "out": target = try navigator.finish()
        case "rout": target = try navigator.callOfFrame()
        case "hit", "rhit":
            guard let q, !q.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw APIError.badRequest("moving to the next or previous hit needs a query: add q=QUERY")
            }
            do { try navigator.setQuery(q) } catch let e as QueryError { throw APIError.badRequest(e.description) }
            target = try navigator.proceed(forward: move == "hit")
        case "first": target = try searcher.timeline.firstEvent()
        case "last": target = try searcher.timeline.lastEvent()
        default:
            throw APIError.badRequest("unknown move '\(move)'; the moves are \(Self.moves.joined(separator: ", "))")
        }
        guard let target else {
            throw APIError.notFound("there is nowhere to go: no \(Self.describe(move)) from event #\(seq)")
        }
        return ["seq": target.seq, "from": seq, "move": move]
    }

    private static func describe(_ move: String) -> String {
        switch move {
        case "step": "later event in this thread"
        case "back": "earlier event in this thread"
        case "next": "later event in this frame"
        case "prev": "earlier event in this frame"
        case "out": "return of this frame"
        case "rout": "call of this frame"
        case "hit": "later hit of the query"
        case "rhit": "earlier hit of the query"
        default: "such event"
        }
    }

    /// A page of the changes of variable `name`, oldest first, after event `after`; only frame
    /// `frame`'s when given.
    public func history(of name: String, frame: UInt64?, after: UInt64?, limit: Int) throws -> [String: Any] {
        guard !name.isEmpty, !name.contains("\"") else { throw APIError.badRequest("'\(name)' is not a variable name") }
        var changes: [[String: Any]] = []
        var more = false
        try searcher.changes(of: name, frame: frame, range: after.map { "seq:\($0 + 1).." }) { hit in
            if let after, hit.event.seq <= after { return true }
            if changes.count == limit { more = true; return false }
            changes.append(JSONForm.hit(hit, definitions: definitions))
            return true
        }
        return ["variable": name, "frame": frame.map { $0 as Any } ?? NSNull(), "changes": changes, "more_after": more]
    }

    /// A page of the calls made by frame `under` (its frame number: the seq of its call), or of
    /// the outermost calls of the run, in time order after event `after`.
    public func calls(under: UInt64?, after: UInt64?, limit: Int) throws -> [String: Any] {
        let page: (calls: [CallRecord], more: Bool)
        if let under {
            let e = try event(under)
            guard e.kind == .call, e.activation == e.seq else {
                throw APIError.badRequest("event #\(under) is not a call; give the frame number of a call (its first event)")
            }
            page = try searcher.calls(madeBy: e, after: after ?? 0, limit: limit)
        } else {
            page = try searcher.rootCalls(after: after ?? 0, limit: limit)
        }
        return ["under": under.map { $0 as Any } ?? NSNull(), "calls": page.calls.map(callObject), "more_after": page.more]
    }

    private func callObject(_ c: CallRecord) -> [String: Any] {
        var d = JSONForm.call(c, definitions: definitions)
        // A call with events between its call and return may have made calls.
        d["may_have_calls"] = c.end.map { $0.seq > c.call.seq + 1 } ?? true
        return d
    }
}
