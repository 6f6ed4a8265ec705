import ArgumentParser
import Foundation
import PodeLog
import PodeQuery

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List every value a variable held, in time order, one change per line.",
        discussion: """
        Each line is one change: the event that recorded it, file:line of the code that made it, \
        the function and which call of it (its frame number), and the new value. A container \
        changed in place counts as a change; a deleted variable shows as deleted. Narrow it to \
        one function, file or frame, or to a range of events. Exit status: 0 when the variable \
        was found, 1 when it was not, 2 on error.
        """
    )

    @OptionGroup var traceOptions: TraceOptions
    @OptionGroup var display: DisplayOptions

    @Argument(help: "The variable's name, as in the program (case-sensitive).")
    var variable: String

    @Option(help: "Only this function (its name or qualified name, such as Class.method).")
    var `func`: String?

    @Option(help: "Only this file (its base name or full path).")
    var file: String?

    @Option(help: "Only this frame: one call of a function, by the frame number show and search print.")
    var frame: UInt64?

    @Option(help: "Only events in this range: A..B, A.. or ..B.")
    var seq: SeqRange?

    @Option(help: "Print at most this many changes.")
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit takes a number of at least 1") }
        for (what, text) in [("a variable name", variable), ("a function name", self.func ?? "f"), ("a file name", file ?? "f")]
        where text.isEmpty || text.contains("\"") {
            throw ValidationError("'\(text)' is not \(what)")
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let searcher = try traceOptions.openSearcher()
        let out = display.output()
        var changes = 0
        try reading("history") {
            if out.json { out.jsonLine(type: "begin", ["trace": searcher.trace.path, "variable": variable]) }
            try searcher.changes(of: variable, function: self.func, file: file, frame: frame, range: seq?.clause) { hit in
                changes += 1
                out.hit(hit, definitions: searcher.definitions, metadata: searcher.metadata, frame: true, type: "change")
                return limit.map { changes < $0 } ?? true
            }
            if out.json { out.jsonLine(type: "end", ["changes": changes]) }
        }
        out.finish()
        if changes == 0 {
            FileHandle.standardError.write(Data("pode: no recorded value of \(variable) matches\n".utf8))
            throw ExitCode(1)
        }
    }
}
