import ArgumentParser
import Foundation
import PodeLog
import PodeQuery

struct CallsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls",
        abstract: "List every call of a function (or every call of the run) with its arguments and what it returned or raised.",
        discussion: """
        Each line is one call: where the function is, the span of events from its call to its \
        return (#first..#last), its depth, its arguments and '-> value' for what it returned or \
        'raised EXCEPTION'. --tree indents calls by depth to show the call tree of the whole run, \
        or of one call with --under. Exit status: 0 when a call was found, 1 when none was, 2 on \
        error.
        """
    )

    @OptionGroup var traceOptions: TraceOptions
    @OptionGroup var display: DisplayOptions

    @Argument(help: "The function (its name or qualified name, such as Class.method); every call of the run when left out.")
    var function: String?

    @Flag(help: "Print the call tree: each call indented under its caller.")
    var tree = false

    @Option(help: "Only the calls made during this call (given by its frame number, or any event inside it), itself included.")
    var under: UInt64?

    @Option(help: "Only this many levels of calls (1 is the outermost calls, or the --under call alone).")
    var depth: Int?

    @Option(help: "Print at most this many calls.")
    var limit: Int?

    func validate() throws {
        if let depth, depth < 1 { throw ValidationError("--depth takes a number of at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit takes a number of at least 1") }
        if let function, function.isEmpty || function.contains("\"") { throw ValidationError("'\(function)' is not a function name") }
    }

    /// One call being followed from its call event to its end.
    struct Call {
        var call: Event
        var level: Int
        var end: Event?
        var raised: RecordedValue?
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let searcher = try traceOptions.openSearcher()
        let out = display.output()
        let defs = searcher.definitions
        // One thread's calls need no thread label: a tree under one call, or a run with one thread.
        let threads = defs.threads.count > 1 && under == nil
        var printed = 0
        try reading("calls") {
            // The root of --under: the frame of that event, and where its calls end.
            var root: Event?
            if let under {
                guard let e = try searcher.timeline.event(under) else {
                    FileHandle.standardError.write(Data("pode: there is no event #\(under) in this trace\n".utf8))
                    throw ExitCode(1)
                }
                root = try searcher.timeline.event(e.activation) ?? e
            }
            var clauses = ["(kind:call OR kind:return OR kind:exception)"]
            if let f = function.flatMap({ TraceSearcher.clause("func", $0) }) { clauses.append(f) }
            if let root { clauses.append("seq:\(root.activation)..") }
            let query = try searcher.compile(clauses.joined(separator: " "))
            let printer = CallPrinter(out: out, definitions: defs, tree: tree, threads: threads)
            var open: [UInt64: Int] = [:]          // activation -> index in pending
            var pending: [Call?] = []              // in call order; nil once printed
            var firstPending = 0
            var lastException: [UInt64: RecordedValue] = [:]
            var rootDone = false
            func flush() {
                while firstPending < pending.count, let c = pending[firstPending], c.end != nil {
                    if limit.map({ printed < $0 }) ?? true { printer.print(c) }
                    printed += 1
                    pending[firstPending] = nil
                    firstPending += 1
                }
            }
            if out.json { out.jsonLine(type: "begin", ["trace": searcher.trace.path, "function": function ?? ""]) }
            try searcher.search(query) { hit in
                let e = hit.event
                if let root {
                    if e.thread != root.thread || e.seq < root.activation { return true }
                    if e.depth < root.depth || (e.depth == root.depth && e.activation != root.activation) { return true }
                }
                switch e.kind {
                case .call:
                    if let function, !CallPrinter.matches(defs.codes[e.code], function) { return true }
                    let level = Int(e.depth) - Int(root?.depth ?? 0)
                    if let depth, level >= depth { return true }
                    open[e.activation] = pending.count
                    pending.append(Call(call: e, level: level))
                case .exception:
                    if open[e.activation] != nil, let v = e.values.first(where: { $0.name == ValueName.exception }) {
                        lastException[e.activation] = v
                    }
                case .return:
                    guard let i = open.removeValue(forKey: e.activation) else { break }
                    pending[i]!.end = e
                    if !e.values.contains(where: { $0.name == ValueName.returnValue }) { pending[i]!.raised = lastException[e.activation] }
                    lastException[e.activation] = nil
                    if e.activation == root?.activation { rootDone = true }
                    flush()
                default:
                    break
                }
                if rootDone { return false }
                return limit.map { printed < $0 } ?? true
            }
            // Calls that never returned (the run ended inside them, or was killed).
            for i in firstPending..<pending.count {
                guard let c = pending[i], limit.map({ printed < $0 }) ?? true else { continue }
                printer.print(c)
                printed += 1
            }
            if out.json { out.jsonLine(type: "end", ["calls": printed]) }
        }
        out.finish()
        if printed == 0 {
            FileHandle.standardError.write(Data("pode: no call \(function.map { "of \($0) " } ?? "")was recorded\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Prints calls as lines, as a tree, or as JSON.
struct CallPrinter {
    let out: Output
    let definitions: Definitions
    let tree: Bool
    let threads: Bool

    /// Whether code `c` is the function the user named (plain or qualified name).
    static func matches(_ c: CodeDefinition?, _ name: String) -> Bool {
        guard let c else { return false }
        return c.qualname == name || c.name == name
    }

    func print(_ c: CallsCommand.Call) {
        let e = c.call
        let code = definitions.codes[e.code]
        let file = code?.file ?? "?"
        // A module's call is at line 0: say where its code starts instead.
        let line = e.line > 0 ? e.line : (code?.firstLine ?? 0)
        let args = e.values.filter { $0.name >= ValueName.firstName }
        if out.json {
            out.jsonLine(type: "call", JSONForm.call(CallRecord(call: e, end: c.end, raised: c.raised), definitions: definitions))
            return
        }
        let signature = out.paint(code?.qualname ?? "?", "36") + "(" + args.map { arg -> String in
            arg.flags.contains(.deleted) ? definitions.valueName(arg.name) : "\(definitions.valueName(arg.name))=\(Output.shortText(arg))"
        }.joined(separator: ", ") + ")"
        var result = ""
        if let end = c.end {
            if let r = end.values.first(where: { $0.name == ValueName.returnValue }) {
                result = " -> " + Output.shortText(r)
            } else if let raised = c.raised {
                result = " " + out.paint("raised", "31") + " " + Output.shortText(raised)
            }
        } else {
            result = " (did not return)"
        }
        let span = "#\(e.seq)..\(c.end.map { "#\($0.seq)" } ?? "")"
        let thread = threads ? "[thread \(e.thread)] " : ""
        if tree {
            let indent = String(repeating: "  ", count: max(0, c.level))
            out.line("\(thread)\(indent)\(signature)\(result)  " + out.paint("\(span) \(Output.displayPath(file)):\(line)", "2"))
        } else {
            out.line("\(Output.displayPath(file)):\(line): \(thread)\(span) depth \(e.depth) \(signature)\(result)")
        }
    }
}
