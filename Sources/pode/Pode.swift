import ArgumentParser
import Foundation
import PodeLog
import PodeQuery

struct Pode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pode",
        abstract: "The Python omniscient debugger: record a run once, then search everything it held.",
        discussion: """
        Record a program with 'pode record script.py args...' (it runs exactly as python3 would), \
        then ask the recording questions: 'pode search QUERY' and 'pode grep PATTERN' find values, \
        'pode show SEQ' shows a moment with every variable as it was then, 'pode history VAR' a \
        variable's every value, 'pode calls' the calls, and 'pode replay' steps through the run \
        forwards and backwards; 'pode serve' shows it all in a web browser. Traces live in ./.pode unless you choose another directory.
        """,
        subcommands: [RecordCommand.self, SearchCommand.self, ShowCommand.self, HistoryCommand.self, CallsCommand.self, GrepCommand.self, ReplayCommand.self, IndexCommand.self, ListCommand.self, ServeCommand.self]
    )
}

/// Picks the trace a reading command works on.
struct TraceOptions: ParsableArguments {
    @Option(name: .long, help: "The trace directory to read. By default the newest trace under ./.pode is read.")
    var trace: String?

    @Option(name: .long, help: "The process to read, by its pid, when the program forked: by default the first process (search reads them all).")
    var pid: Int32?

    /// The processes of `trace` a command reads: every one, or the one --pid names.
    func processes(of trace: TraceDirectory) throws -> [(TraceDirectory, TraceMetadata)] {
        let parts: [(TraceDirectory, TraceMetadata)]
        do { parts = try trace.processParts() } catch { throw CommandFailure("cannot read the trace \(trace.path): \(error)") }
        guard let pid else { return parts }
        guard let part = parts.first(where: { $0.1.pid == pid }) else {
            throw CommandFailure("no process \(pid) in the trace \(trace.path) (its processes: \(parts.map { String($0.1.pid) }.joined(separator: ", ")))")
        }
        return [part]
    }

    /// The one process a command reads (see --pid).
    func resolveProcess() throws -> TraceDirectory {
        let trace = try resolve()
        guard pid != nil else { return trace }
        return try processes(of: trace)[0].0
    }

    func resolve() throws -> TraceDirectory {
        if let trace { return try Self.directory(at: trace) }
        guard let newest = TraceDirectory.list(root: TraceDirectory.defaultRoot).last else {
            throw ValidationError("there are no traces in ./\(TraceDirectory.defaultRoot); record one with 'pode record script.py' or pass --trace DIR")
        }
        return newest.0
    }

    /// The trace at `path`, or an error that says why it is not one.
    static func directory(at path: String) throws -> TraceDirectory {
        let dir = TraceDirectory(path: path)
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("there is no trace at \(path) (list traces with 'pode ls')")
        }
        guard dir.isTrace else {
            throw ValidationError("\(path) is not a pode trace: it has no \(TraceFormat.metadataFile) and \(TraceFormat.eventsFile) (list traces with 'pode ls')")
        }
        return dir
    }
}

/// One-line errors for problems found while running a command (exit status 2).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
