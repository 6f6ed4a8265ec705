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

    /// How long one answer may read the trace before it returns what it has: a query the index
    /// cannot narrow (a phrase over common words, say) would otherwise read the whole run.
    public var budget: Double = 1.5

    /// A `stop` for the searcher: true once `seconds` have passed.
    private func deadline(_ seconds: Double) -> () -> Bool {
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        return { DispatchTime.now().uptimeNanoseconds > end }
    }

    /// A page of hits of `q` in time order: the first page, the page after event `after`, or
    /// the page before event `before`. When the time budget runs out first, the page holds the
    /// hits found so far and `next_after` (or `next_before`) says where the next page goes on
    /// from, so no hit is ever skipped.
    public func search(_ q: String, after: UInt64?, before: UInt64?, limit: Int) throws -> [String: Any] {
        let query = try compile(q)
        var hits: [Hit] = []
        var moreBefore = false, moreAfter = false
        var partial = false
        var d: [String: Any] = [:]
        if let before {
            var stoppedAt: UInt64?
            if before > 0 {
                stoppedAt = try searcher.search(query, from: 0, to: before - 1, descending: true, stop: deadline(budget)) { hit in
                    hits.append(hit)
                    return hits.count <= limit
                }
            }
            if hits.count > limit { hits.removeLast(); moreBefore = true }
            hits.reverse()
            if let stoppedAt {
                // Every event after stoppedAt was checked.
                partial = true
                moreBefore = true
                d["next_before"] = stoppedAt + 1
            } else if let first = hits.first {
                d["next_before"] = first.event.seq
            }
            moreAfter = try maybeAny(query, from: before, to: .max)
        } else {
            let from = after.map { $0 + 1 } ?? 0
            let stoppedAt = try searcher.search(query, from: from, stop: deadline(budget)) { hit in
                hits.append(hit)
                return hits.count <= limit
            }
            if hits.count > limit { hits.removeLast(); moreAfter = true }
            if let stoppedAt {
                // Every event before stoppedAt was checked.
                partial = true
                moreAfter = true
                d["next_after"] = stoppedAt - 1
            } else if let last = hits.last {
                d["next_after"] = last.event.seq
            }
            if let after { moreBefore = try maybeAny(query, from: 0, to: after) }
        }
        d["query"] = q
        d["hits"] = hits.map { JSONForm.hit($0, definitions: definitions) }
        d["more_before"] = moreBefore
        d["more_after"] = moreAfter
        d["partial"] = partial
        return d
    }

    /// Whether `query` has a hit among events `lo...hi`; true also when a short look could not
    /// tell (the next page will).
    private func maybeAny(_ query: CompiledQuery, from lo: UInt64, to hi: UInt64) throws -> Bool {
        var found = false
        let stopped = try searcher.search(query, from: lo, to: hi, stop: deadline(budget / 5)) { _ in found = true; return false }
        return found || stopped != nil
    }

    /// How many events match `q`, and how many per file, function, variable, kind, type, thread
    /// and process (counted from block summaries where they can answer). When the time budget
    /// runs out, the counts are those of the events before `counted_before`, and `complete` is
    /// false.
    public func facets(_ q: String) throws -> [String: Any] {
        let query = try compile(q)
        var counter = FacetCounter(definitions: definitions, facets: FacetCounter.names)
        var total = 0
        let stoppedAt = try searcher.tally(query, summarizing: { _ in true }, stop: deadline(budget)) { hit, n, _ in
            total += n
            counter.add(hit, times: n)
        }
        var facets = counter.result
        // Every event of a trace is its one process's: pode does not follow forked children yet.
        if total > 0 { facets["process"] = [String(searcher.metadata.pid): total] }
        var d: [String: Any] = ["query": q, "total": total, "facets": facets, "complete": stoppedAt == nil]
        if let stoppedAt { d["counted_before"] = stoppedAt }
        return d
    }

    /// Where the hits of `q` fall: the run's events split into `buckets` stretches, each with
    /// its first event number and its number of hits. On a long run the stretches start at
    /// block boundaries, so each block is counted from its summary; on a short one they are
    /// equal. Budgeted as `facets`.
    public func timeline(_ q: String, buckets: Int) throws -> [String: Any] {
        let query = try compile(q)
        let first = try searcher.timeline.firstEvent()?.seq ?? 0
        let last = try searcher.timeline.lastEvent()?.seq ?? 0
        let span = last >= first ? last - first + 1 : 0
        let n = Int(min(UInt64(max(1, min(buckets, 1000))), max(1, span)))
        var starts = (0..<n).map { first + UInt64(Double(span) * Double($0) / Double(n)) }
        if n * 4 <= searcher.timeline.segmentCount {
            starts = try starts.map { try searcher.timeline.segmentStart(containing: $0) ?? $0 }
        }
        func bucket(_ seq: UInt64) -> Int {
            var lo = 0, hi = n - 1  // the last start at or before seq
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if starts[mid] <= seq { lo = mid } else { hi = mid - 1 }
            }
            return lo
        }
        var counts = [Int](repeating: 0, count: n)
        // A block may be counted from its summary only when it lies in one bucket.
        let stoppedAt = try searcher.tally(query, summarizing: { bucket($0.firstSeq) == bucket($0.lastSeq) }, stop: deadline(budget)) {
            hit, count, segment in
            counts[bucket(max(hit.event.seq, segment.firstSeq))] += count
        }
        let list = (0..<n).map { i -> [String: Any] in ["from": starts[i], "hits": counts[i]] }
        var d: [String: Any] = ["query": q, "first_seq": first, "last_seq": last, "buckets": list, "complete": stoppedAt == nil]
        if let stoppedAt { d["counted_before"] = stoppedAt }
        return d
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
        let m = try Moment(searcher: searcher, event: e, allFrames: false, selected: frame)
        let file = definitions.codes[e.code]?.file ?? "?"
        let long = sources.lines(of: file).count > Self.maxSourceLines
        var d = JSONForm.moment(m, searcher: searcher, sources: sources, context: long ? Self.maxSourceLines / 2 : nil)
        d["selected_frame"] = m.selected
        if m.stack.indices.contains(m.selected), let code = definitions.codes[m.stack[m.selected].code] {
            d["selected"] = ["frame": m.stack[m.selected].activation, "function": code.qualname, "file": code.file, "line": m.stack[m.selected].line]
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
        for _ in 0..<max(0, frame) {
            guard try navigator.select(outer: true) else { break }
        }
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
