import ArgumentParser
import Foundation
import PodeLog
import PodeQuery

struct GrepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grep",
        abstract: "Search the recorded values and names with a regular expression, as grep searches lines.",
        discussion: """
        Each recorded value is matched as the line 'name = value' (or 'name deleted'); an event \
        matches when one of its values does, and is printed with the values that matched. The \
        pattern is a POSIX extended regular expression (with \\w, \\b, \\< and \\>). Literal \
        words in it narrow the search through the index; a pattern without any is checked \
        against every event, which is slower but gives the same answer. Context lines (-A, -B, \
        -C) are the events just before and after a match, whatever they are, printed with '-' \
        instead of ':' and '--' between groups, as grep does. Exit status: 0 when something \
        matched, 1 when nothing did, 2 on error.
        """
    )

    @OptionGroup var traceOptions: TraceOptions
    @OptionGroup var display: DisplayOptions

    @Argument(help: "The regular expression (or the text, with -F).")
    var pattern: String

    @Flag(name: [.customShort("F"), .customLong("fixed-strings")], help: "Take the pattern as plain text, not a regular expression.")
    var fixed = false

    @Flag(name: [.customShort("i"), .customLong("ignore-case")], help: "Ignore the case of letters.")
    var ignoreCase = false

    @Flag(name: [.customShort("w"), .customLong("word-regexp")], help: "Match whole words only.")
    var wordRegexp = false

    @Flag(name: [.customShort("c"), .long], help: "Print only the number of matching events.")
    var count = false

    @Flag(name: [.customShort("l"), .customLong("files-with-matches")], help: "Print only the source files whose events matched, each once.")
    var filesWithMatches = false

    @Option(name: [.customShort("m"), .customLong("max-count")], help: "Stop after this many matching events.")
    var maxCount: Int?

    @Option(name: [.customShort("A"), .customLong("after-context")], help: "Print this many events after each match.")
    var after: Int?

    @Option(name: [.customShort("B"), .customLong("before-context")], help: "Print this many events before each match.")
    var before: Int?

    @Option(name: [.customShort("C"), .customLong("context")], help: "Print this many events before and after each match.")
    var context: Int?

    @Option(help: "Only events in this file (its base name or full path).")
    var file: String?

    @Option(help: "Only events in this function (its name or qualified name).")
    var `func`: String?

    @Option(help: "Only values of this variable.")
    var `var`: String?

    @Option(help: "Only events of this kind: call, line, return, exception, yield or resume.")
    var kind: String?

    func validate() throws {
        for (name, v) in [("-m", maxCount), ("-A", after), ("-B", before), ("-C", context)] {
            if let v, v < (name == "-m" ? 1 : 0) { throw ValidationError("\(name) takes a number of at least \(name == "-m" ? 1 : 0)") }
        }
        if let kind, EventKind(name: kind) == nil {
            throw ValidationError("unknown kind '\(kind)'; the kinds are \(EventKind.allCases.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let searcher = try traceOptions.openSearcher()
        let out = display.output()
        let pattern: GrepPattern
        do {
            pattern = try GrepPattern(self.pattern, fixed: fixed, ignoreCase: ignoreCase, wholeWords: wordRegexp)
        } catch let e as QueryError {
            throw CommandFailure(e.description)
        }
        let filters = GrepFilters(file: file, function: self.func, variable: self.var, kind: kind.flatMap(EventKind.init(name:)))
        let before = self.before ?? context ?? 0
        let after = self.after ?? context ?? 0
        let quiet = count || filesWithMatches
        var matches = 0
        var files = Set<String>()
        var lastPrinted: UInt64 = 0
        func limitReached() -> Bool { maxCount.map { matches >= $0 } ?? false }
        func printEvent(_ e: Event, matched: [Int], isMatch: Bool) {
            if lastPrinted > 0, e.seq > lastPrinted + 1, before + after > 0, !out.json { out.line("--") }
            out.hit(Hit(event: e, matchedValues: matched), definitions: searcher.definitions, metadata: searcher.metadata,
                    separator: isMatch ? ":" : "-", type: isMatch ? "match" : "context")
            lastPrinted = e.seq
        }
        try reading("grep") {
            if out.json { out.jsonLine(type: "begin", ["trace": searcher.trace.path, "pattern": self.pattern]) }
            try searcher.grep(pattern, filters) { hit in
                let e = hit.event
                if e.seq <= lastPrinted { return true }  // already printed as context's match
                matches += 1
                if filesWithMatches {
                    let path = searcher.definitions.codes[e.code]?.file ?? "?"
                    if files.insert(path).inserted {
                        if out.json { out.jsonLine(type: "file", ["file": path]) } else { out.line(Output.displayPath(path)) }
                    }
                }
                if quiet { return !limitReached() }
                if before > 0 {
                    var context: [Event] = []
                    try searcher.timeline.walk(from: e.seq, forward: false) { c in
                        guard c.seq > lastPrinted, context.count < before else { return false }
                        context.append(c)
                        return true
                    }
                    for c in context.reversed() { printEvent(c, matched: [], isMatch: false) }
                }
                printEvent(e, matched: hit.matchedValues, isMatch: true)
                if after > 0 {
                    var remaining = after
                    try searcher.timeline.walk(from: e.seq, forward: true) { c in
                        guard remaining > 0 else { return false }
                        let m = limitReached() ? [] : searcher.grepMatches(c, pattern, filters)
                        if m.isEmpty {
                            printEvent(c, matched: [], isMatch: false)
                            remaining -= 1
                        } else {
                            matches += 1
                            printEvent(c, matched: m, isMatch: true)
                            remaining = after
                        }
                        return true
                    }
                }
                return !limitReached()
            }
            if count {
                if out.json { out.jsonLine(type: "count", ["count": matches]) } else { out.line(String(matches)) }
            }
            if out.json { out.jsonLine(type: "end", ["matches": matches]) }
        }
        out.finish()
        if matches == 0 { throw ExitCode(1) }
    }
}
