import Foundation
import PodeLog

/// One moment of the run, as `show`, `replay` and the info browser present it: the event, its
/// call stack and the locals of the frames asked for.
public struct Moment {
    public let event: Event
    /// Innermost first.
    public let stack: [StackFrame]
    /// Locals per frame shown, by activation.
    public let locals: [UInt64: [LocalValue]]
    /// The call event of each frame on the stack (for its arguments), by activation.
    public let calls: [UInt64: Event]
    /// The frame whose locals are shown (0 is the innermost).
    public let selected: Int

    /// The moment at `event`, with the locals of every frame (`allFrames`) or of frame
    /// `selected` (0 is the innermost; past the outermost frame, the outermost).
    public init(searcher: TraceSearcher, event: Event, allFrames: Bool, selected: Int = 0) throws {
        self.event = event
        stack = try searcher.stack(at: event)
        let selected = min(max(0, selected), max(0, stack.count - 1))
        self.selected = selected
        var locals: [UInt64: [LocalValue]] = [:]
        var calls: [UInt64: Event] = [:]
        for (i, f) in stack.enumerated() {
            // The stack already holds a frame's call unless its current run began with a resume.
            if let entry = f.entry, entry.kind == .call {
                calls[f.activation] = entry
            } else if let call = try searcher.timeline.event(f.activation), call.kind == .call, call.activation == f.activation {
                calls[f.activation] = call
            }
            if allFrames || i == selected { locals[f.activation] = try searcher.locals(of: f, at: event.seq) }
        }
        self.locals = locals
        self.calls = calls
    }
}

/// Reads the sources a trace kept, one file at a time.
public final class SourceLines {
    private let trace: TraceDirectory
    private let metadata: TraceMetadata
    private var files: [String: [String]] = [:]

    public init(trace: TraceDirectory, metadata: TraceMetadata) {
        self.trace = trace
        self.metadata = metadata
    }

    /// The lines of `file` as it was recorded (empty when the trace did not keep it).
    public func lines(of file: String) -> [String] {
        if let l = files[file] { return l }
        var l: [String] = []
        if let name = metadata.sources[file], let text = try? String(contentsOfFile: trace.sourcesPath + "/" + name, encoding: .utf8) {
            l = text.components(separatedBy: "\n")
            if l.last == "" { l.removeLast() }
        }
        files[file] = l
        return l
    }

    /// The kept lines within `context` of `line`, with their numbers (none for line 0).
    public func window(around line: UInt32, context: Int, of file: String) -> [(UInt32, String)] {
        guard line > 0 else { return [] }
        let lo = max(1, Int(line) - context), hi = Int(line) + context
        return (lo...hi).compactMap { n in self.line(UInt32(n), of: file).map { (UInt32(n), $0) } }
    }

    /// Line `number` (from 1), if kept.
    public func line(_ number: UInt32, of file: String) -> String? {
        let l = lines(of: file)
        return number >= 1 && Int(number) <= l.count ? l[Int(number) - 1] : nil
    }
}

/// Exact per-facet counts over the hits of a query.
public struct FacetCounter {
    /// Every facet a search can count by.
    public static let names = ["file", "func", "var", "kind", "type", "thread"]
    /// The process facet: counted (and listed by default) for a trace with forked children.
    public static let processFacet = "pid"

    public let definitions: Definitions
    public let facets: [String]
    /// The pid of the process whose events are counted (for the pid facet).
    public let pid: Int32
    public private(set) var result: [String: [String: Int]] = [:]

    public init(definitions: Definitions, facets: [String], pid: Int32 = 0) {
        self.definitions = definitions
        self.facets = facets
        self.pid = pid
    }

    /// Adds another counter's counts (another process of the same trace).
    public mutating func merge(_ other: FacetCounter) {
        for (facet, counts) in other.result {
            for (k, n) in counts { result[facet, default: [:]][k, default: 0] += n }
        }
    }

    /// Counts `hit` as `times` events.
    public mutating func add(_ hit: Hit, times: Int = 1) {
        guard !facets.isEmpty else { return }
        let e = hit.event
        let code = definitions.codes[e.code]
        let shown = hit.matchedValues.isEmpty ? Array(e.values.indices) : hit.matchedValues
        for facet in facets {
            var keys = Set<String>()
            switch facet {
            case "file": keys.insert(code?.file ?? "?")
            case "func": keys.insert(code?.qualname ?? "?")
            case "kind": keys.insert(e.kind.name)
            case "thread": keys.insert(String(e.thread))
            case Self.processFacet: keys.insert(String(pid))
            case "var":
                for i in shown where e.values[i].name >= ValueName.firstName { keys.insert(definitions.valueName(e.values[i].name)) }
            case "type":
                for i in shown where !e.values[i].flags.contains(.deleted) { keys.insert(definitions.typeName(e.values[i].type)) }
            default: break
            }
            for k in keys { result[facet, default: [:]][k, default: 0] += times }
        }
    }
}
