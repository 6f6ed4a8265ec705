import ArgumentParser
import Foundation
import PodeLog
import PodeQuery

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one moment of the run: the event, its source lines, the call stack and the values of the locals at that moment.",
        discussion: """
        Every value is the one the variable held at that moment: the value recorded by its last \
        change at or before the event, with the event number that set it. Nothing is run again. \
        Exit status: 0 when the event exists, 1 when it does not, 2 on error.
        """
    )

    @OptionGroup var traceOptions: TraceOptions
    @OptionGroup var display: DisplayOptions

    @Argument(help: "The event number (as search prints it, without the #).")
    var seq: UInt64?

    @Option(name: .customLong("first"), help: "Show the first event that matches this query instead of an event number.")
    var firstQuery: String?

    @Flag(name: .customLong("all-frames"), help: "Show the locals of every frame on the stack, not only the current one.")
    var allFrames = false

    @Option(help: "How many source lines to show before and after the current one.")
    var context: Int = 3

    func validate() throws {
        if seq == nil && firstQuery == nil { throw ValidationError("give an event number or --first QUERY") }
        if seq != nil && firstQuery != nil { throw ValidationError("give an event number or --first QUERY, not both") }
        if context < 0 { throw ValidationError("--context takes a number of at least 0") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let searcher = try traceOptions.openSearcher()
        let out = display.output()
        try reading("show") {
            let event = try resolveMoment(searcher, seq: seq, first: firstQuery)
            let moment = try Moment(searcher: searcher, event: event, allFrames: allFrames)
            MomentPrinter(out: out, searcher: searcher).print(moment, context: context)
        }
        out.finish()
    }
}

/// What `show` and `replay` print about a moment: the event, its stack and the locals.
struct Moment {
    let event: Event
    /// Innermost first.
    let stack: [StackFrame]
    /// Locals per frame shown, by activation.
    let locals: [UInt64: [LocalValue]]
    /// The call event of each frame on the stack (for its arguments), by activation.
    let calls: [UInt64: Event]

    init(searcher: TraceSearcher, event: Event, allFrames: Bool, selected: Int = 0) throws {
        self.event = event
        stack = try searcher.stack(at: event)
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
final class SourceLines {
    private let trace: TraceDirectory
    private let metadata: TraceMetadata
    private var files: [String: [String]] = [:]

    init(trace: TraceDirectory, metadata: TraceMetadata) {
        self.trace = trace
        self.metadata = metadata
    }

    /// The lines of `file` as it was recorded (empty when the trace did not keep it).
    func lines(of file: String) -> [String] {
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
    func window(around line: UInt32, context: Int, of file: String) -> [(UInt32, String)] {
        guard line > 0 else { return [] }
        let lo = max(1, Int(line) - context), hi = Int(line) + context
        return (lo...hi).compactMap { n in self.line(UInt32(n), of: file).map { (UInt32(n), $0) } }
    }

    /// Line `number` (from 1), if kept.
    func line(_ number: UInt32, of file: String) -> String? {
        let l = lines(of: file)
        return number >= 1 && Int(number) <= l.count ? l[Int(number) - 1] : nil
    }
}

struct MomentPrinter {
    let out: Output
    let searcher: TraceSearcher

    var definitions: Definitions { searcher.definitions }

    func function(_ code: UInt32) -> String { definitions.codes[code]?.qualname ?? "?" }
    func file(_ code: UInt32) -> String { definitions.codes[code]?.file ?? "?" }

    /// `func(a=1, b=2)` from a frame's call event.
    func signature(_ frame: StackFrame, call: Event?) -> String {
        let args = (call?.values ?? []).filter { $0.name >= ValueName.firstName && !$0.flags.contains(.deleted) }
            .map { "\(definitions.valueName($0.name))=\(Output.shortText($0, limit: 60))" }
        return function(frame.code) + "(" + args.joined(separator: ", ") + ")"
    }

    func print(_ m: Moment, context: Int, selected: Int = 0) {
        let e = m.event
        let sources = SourceLines(trace: searcher.trace, metadata: searcher.metadata)
        let path = file(e.code)
        if out.json {
            var stack: [[String: Any]] = []
            for f in m.stack.reversed() {
                var d: [String: Any] = ["frame": f.activation, "function": function(f.code), "file": file(f.code), "line": f.line,
                                        "depth": f.depth, "thread": f.thread,
                                        "args": (m.calls[f.activation]?.values ?? []).map { Output.jsonValue($0, definitions: definitions) }]
                if let l = m.locals[f.activation] {
                    d["locals"] = l.map { lv -> [String: Any] in
                        var v = Output.jsonValue(lv.value, definitions: definitions)
                        v["set_at"] = lv.setAt
                        v["set_line"] = lv.line
                        return v
                    }
                }
                stack.append(d)
            }
            let source = sources.window(around: e.line, context: context, of: path).map { n, text -> [String: Any] in
                ["line": n, "text": text, "current": n == e.line]
            }
            out.jsonLine(type: "moment", [
                "seq": e.seq, "kind": e.kind.name, "file": path, "line": e.line, "function": function(e.code), "thread": e.thread,
                "frame": e.activation, "depth": e.depth, "time_ns": e.time,
                "values": e.values.map { Output.jsonValue($0, definitions: definitions) }, "source": source, "stack": stack,
            ])
            return
        }
        printEvent(e)
        printSource(file: path, line: e.line, context: context, sources: sources)
        out.line("")
        printStack(m, selected: selected)
        for f in m.stack {
            guard let locals = m.locals[f.activation] else { continue }
            out.line("")
            printLocals(locals, of: f, at: e.seq)
        }
    }

    /// The event's heading line and the values it recorded.
    func printEvent(_ e: Event) {
        let head = "#\(e.seq) \(e.kind.name) in \(function(e.code)) at \(Output.displayPath(file(e.code))):\(e.line)"
            + " (frame #\(e.activation), thread \(e.thread))"
        out.line(out.paint(head, "1;36"))
        if !e.values.isEmpty {
            let label = e.kind == .call ? "arguments" : (e.kind == .line ? "changed by line \(e.valueLine)" : "values")
            out.line("  \(label): " + e.values.map { out.valueText($0, definitions: definitions) }.joined(separator: ", "))
        }
    }

    /// Source lines around `line`, the current one marked with `->`.
    func printSource(file: String, line: UInt32, context: Int, sources: SourceLines) {
        let window = sources.window(around: line, context: context, of: file)
        if !window.isEmpty { out.line("") }
        for (n, text) in window {
            let marker = n == line ? out.paint("->", "1;32") : "  "
            out.line("\(marker) \(String(n).leftPadded(to: 5))  \(text)")
        }
    }

    func printStack(_ m: Moment, selected: Int) {
        out.line(out.paint("Stack, outermost first:", "1"))
        for (i, f) in m.stack.enumerated().reversed() {
            let mark = i == selected ? ">" : " "
            out.line("\(mark) #\(f.activation) \(signature(f, call: m.calls[f.activation]))  \(Output.displayPath(file(f.code))):\(f.line)")
        }
    }

    func printLocals(_ locals: [LocalValue], of f: StackFrame, at seq: UInt64) {
        let what = definitions.codes[f.code]?.isModuleLevel == true ? "Variables" : "Locals"
        out.line(out.paint("\(what) of \(function(f.code)) (frame #\(f.activation)) at #\(seq):", "1"))
        if locals.isEmpty { out.line("  (none recorded)") }
        for lv in locals {
            out.line("  \(out.valueText(lv.value, definitions: definitions))  " + out.paint("(set at #\(lv.setAt), line \(lv.line))", "2"))
        }
    }
}
