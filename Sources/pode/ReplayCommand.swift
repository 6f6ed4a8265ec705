import ArgumentParser
import Foundation
import PodeLog
import PodeQuery

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Step through the recorded run, forwards and backwards, with pdb's commands.",
        discussion: """
        Starts at the given event (or the first match of --first QUERY, or the first event) and \
        reads commands: pdb's names where pdb has them, plus reverse ones (back, rnext, rfinish, \
        rcontinue). Type 'help' for the list. Every answer comes from the trace: nothing is run \
        again. Commands can come from a pipe too, one per line, so a session can be scripted.
        """
    )

    @OptionGroup var traceOptions: TraceOptions

    @Argument(help: "The event number to start at.")
    var seq: UInt64?

    @Option(name: .customLong("first"), help: "Start at the first event that matches this query.")
    var firstQuery: String?

    @Option(help: "When to colour the output: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var color: ColorChoice = .auto

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let searcher = try traceOptions.openSearcher()
        let out = Output(color: Output.useColor(color), json: false)
        let start: Event = try reading("replay") {
            if seq == nil && firstQuery == nil {
                guard let first = try searcher.timeline.firstEvent() else { throw CommandFailure("the trace has no events yet") }
                return first
            }
            return try resolveMoment(searcher, seq: seq, first: firstQuery)
        }
        let session = ReplaySession(navigator: Navigator(searcher: searcher, at: start), out: out)
        session.showLocation()
        out.flush()
        let editor = LineEditor()
        var last = ""
        while let line = editor.readLine(prompt: "(pode) ") {
            var command = line.trimmingCharacters(in: .whitespaces)
            if command.isEmpty { command = last } else { last = command }
            if command.isEmpty { continue }
            if isatty(STDIN_FILENO) != 1 { out.line("(pode) " + command) }
            let keepGoing = session.run(command)
            out.flush()
            if !keepGoing { break }
        }
        out.finish()
    }
}

/// One replay session: runs commands against a navigator and prints the answers.
final class ReplaySession {
    let navigator: Navigator
    let out: Output
    let printer: MomentPrinter
    let sources: SourceLines

    init(navigator: Navigator, out: Output) {
        self.navigator = navigator
        self.out = out
        printer = MomentPrinter(out: out, searcher: navigator.searcher)
        sources = SourceLines(trace: navigator.searcher.trace, metadata: navigator.searcher.metadata)
    }

    var definitions: Definitions { navigator.searcher.definitions }

    static let help = """
    Moving (forwards / backwards):
      s, step            / b, back        the next / previous event of this thread (into calls)
      n, next            / rn, rnext      the next / previous event of this frame (over calls)
      r, return, finish  / rfinish        to this frame's return / to its call
      c, continue        / rc, rcontinue  to the next / previous match of the search or a breakpoint
      goto SEQ, first, last               to an event by number, the first or the last one
    Stopping points:
      search QUERY       the query that c and rc stop at ('search' alone clears it)
      break FILE:LINE, break FUNC         a breakpoint ('break' alone lists them)
      clear              removes every breakpoint
    Looking:
      p VAR, p VAR.attr, p VAR[key]       a value at this moment, as recorded
      locals             the selected frame's variables at this moment
      l, list            the source around the selected frame's line
      w, where           the call stack;  u, up / d, down  selects an outer / inner frame
      show               everything show prints for this moment
      h, help            this list;  q, quit  ends the session
    """

    /// Runs one command; false when the session should end.
    func run(_ command: String) -> Bool {
        let parts = command.split(separator: " ", maxSplits: 1).map(String.init)
        let verb = parts[0]
        let arg = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        do {
            switch verb {
            case "s", "step": move(try navigator.step(), "the end of this thread's events")
            case "b", "back": move(try navigator.step(forward: false), "the start of this thread's events")
            case "n", "next": move(try navigator.next(), "the end of this frame's events")
            case "rn", "rnext": move(try navigator.next(forward: false), "the start of this frame's events")
            case "r", "return", "finish": move(try navigator.finish(), "this frame never returned in the trace")
            case "rfinish": move(try navigator.callOfFrame(), "this frame's call is not in the trace")
            case "c", "continue":
                move(try navigator.proceed(), "no further match of the search or a breakpoint")
            case "rc", "rcontinue":
                move(try navigator.proceed(forward: false), "no earlier match of the search or a breakpoint")
            case "goto", "g":
                guard let seq = UInt64(arg.trimmingCharacters(in: CharacterSet(charactersIn: "#"))) else {
                    out.line("*** goto takes an event number, such as 'goto 120'")
                    break
                }
                move(try navigator.searcher.timeline.event(seq), "there is no event #\(seq)")
            case "first": move(try navigator.searcher.timeline.firstEvent(), "the trace has no events")
            case "last": move(try navigator.searcher.timeline.lastEvent(), "the trace has no events")
            case "search":
                try navigator.setQuery(arg.isEmpty ? nil : arg)
                out.line(arg.isEmpty ? "search cleared" : "c and rc now stop at: \(arg)")
            case "break":
                if arg.isEmpty {
                    out.line(navigator.breakpoints.isEmpty ? "no breakpoints" : navigator.breakpoints.map(\.description).joined(separator: "\n"))
                } else if let colon = arg.lastIndex(of: ":"), let line = UInt32(arg[arg.index(after: colon)...]) {
                    navigator.addBreakpoint(.line(file: String(arg[..<colon]), line: line))
                    out.line("breakpoint at \(arg)")
                } else {
                    navigator.addBreakpoint(.function(arg))
                    out.line("breakpoint at calls of \(arg)")
                }
            case "clear":
                navigator.clearBreakpoints()
                out.line("breakpoints cleared")
            case "u", "up":
                if try navigator.select(outer: true) { showFrame() } else { out.line("*** already at the outermost frame") }
            case "d", "down":
                if try navigator.select(outer: false) { showFrame() } else { out.line("*** already at the innermost frame") }
            case "w", "where", "bt":
                printer.printStack(try moment(), selected: navigator.selected)
            case "l", "list":
                if let f = try navigator.selectedFrame() {
                    printer.printSource(file: definitions.codes[f.code]?.file ?? "?", line: f.line, context: 5, sources: sources)
                }
            case "locals":
                if let f = try navigator.selectedFrame() {
                    printer.printLocals(try navigator.searcher.locals(of: f, at: navigator.current.seq), of: f, at: navigator.current.seq)
                }
            case "p", "print":
                try printValue(arg)
            case "show":
                printer.print(try moment(), context: 3, selected: navigator.selected)
            case "h", "help":
                out.line(Self.help)
            case "q", "quit", "exit":
                return false
            default:
                out.line("*** unknown command '\(verb)'; 'help' lists the commands")
            }
        } catch let e as QueryError {
            out.line("*** \(e.description)")
        } catch {
            out.line("*** \(error)")
        }
        return true
    }

    func moment() throws -> Moment {
        try Moment(searcher: navigator.searcher, event: navigator.current, allFrames: false, selected: navigator.selected)
    }

    func move(_ event: Event?, _ otherwise: String) {
        guard let event else {
            out.line("*** \(otherwise); staying at #\(navigator.current.seq)")
            return
        }
        navigator.move(to: event)
        showLocation()
    }

    /// Where the navigator is: the event, its source line and the values it recorded.
    func showLocation() {
        let e = navigator.current
        let file = definitions.codes[e.code]?.file ?? "?"
        let function = definitions.codes[e.code]?.qualname ?? "?"
        var head = "#\(e.seq) \(e.kind.name) \(function) \(Output.displayPath(file)):\(e.line)"
        if definitions.threads.count > 1 { head += " [thread \(e.thread)]" }
        out.line(out.paint(head, "36"))
        if let text = sources.line(e.line, of: file) { out.line("-> \(text.trimmingCharacters(in: .whitespaces))") }
        if !e.values.isEmpty { out.line("   " + e.values.map { out.valueText($0, definitions: definitions) }.joined(separator: ", ")) }
    }

    func showFrame() {
        guard let f = try? navigator.selectedFrame() else { return }
        let file = definitions.codes[f.code]?.file ?? "?"
        out.line(out.paint("frame #\(f.activation) \(definitions.codes[f.code]?.qualname ?? "?") \(Output.displayPath(file)):\(f.line)", "36"))
        if let text = sources.line(f.line, of: file) { out.line("-> \(text.trimmingCharacters(in: .whitespaces))") }
    }

    func printValue(_ expression: String) throws {
        guard let (name, steps) = RenderedValue.path(expression) else {
            out.line("*** p takes a variable, optionally with .attr and [key] after it, such as 'p row[0].name'")
            return
        }
        guard let lv = try navigator.value(of: name) else {
            out.line("*** \(name) has no recorded value in this frame at #\(navigator.current.seq)")
            return
        }
        var text = lv.value.text
        if !steps.isEmpty {
            guard !lv.value.flags.contains(.truncated), let parsed = RenderedValue(parsing: lv.value.text) else {
                out.line("*** the recorded text of \(name) cannot be looked into: \(lv.value.text)")
                return
            }
            text = try parsed.follow(steps).text
        }
        out.line("\(expression) = \(text)  " + out.paint("(set at #\(lv.setAt))", "2"))
    }
}
