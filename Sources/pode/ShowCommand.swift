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
            out.jsonLine(type: "moment", JSONForm.moment(m, searcher: searcher, sources: sources, context: context))
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
