import ArgumentParser
import Foundation
import PodeLog
import PodeQuery

/// How a reading command writes its answer.
struct DisplayOptions: ParsableArguments {
    @Flag(help: "Write JSON Lines (see docs/json.md) instead of text.")
    var json = false

    @Option(help: "When to colour the output: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var color: ColorChoice = .auto

    func output() -> Output { Output(color: Output.useColor(color), json: json) }
}

extension TraceOptions {
    /// Opens the chosen trace for reading, turning every failure into one line that says what to do.
    func openSearcher() throws -> TraceSearcher {
        let trace = try resolveProcess()
        do {
            return try TraceSearcher(trace: trace)
        } catch let e as QueryError {
            throw CommandFailure(e.description)
        } catch {
            throw CommandFailure("cannot read the trace \(trace.path): \(error)")
        }
    }
}

/// Runs `body`, turning query and log errors into one-line command failures.
func reading<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as QueryError {
        throw CommandFailure(e.description)
    } catch let e as ExitCode {
        throw e
    } catch let e as CommandFailure {
        throw e
    } catch {
        throw CommandFailure("\(what) failed: \(error)")
    }
}

/// A seq range `A..B`, `A..` or `..B` as the query language writes it.
struct SeqRange: ExpressibleByArgument {
    var lower: UInt64?
    var upper: UInt64?

    init?(argument: String) {
        let parts = argument.components(separatedBy: "..")
        guard parts.count == 2 else { return nil }
        lower = parts[0].isEmpty ? nil : UInt64(parts[0])
        upper = parts[1].isEmpty ? nil : UInt64(parts[1])
        if (!parts[0].isEmpty && lower == nil) || (!parts[1].isEmpty && upper == nil) { return nil }
    }

    var clause: String { "seq:\(lower.map(String.init) ?? "")..\(upper.map(String.init) ?? "")" }

    func contains(_ seq: UInt64) -> Bool { seq >= (lower ?? 0) && seq <= (upper ?? .max) }
}

/// The event a command starts from: a number, or the first hit of a query.
func resolveMoment(_ searcher: TraceSearcher, seq: UInt64?, first query: String?) throws -> Event {
    if let query {
        let compiled = try searcher.compile(query)
        var found: Event?
        try searcher.search(compiled) { found = $0.event; return false }
        guard let found else {
            FileHandle.standardError.write(Data("pode: nothing matches \(query)\n".utf8))
            throw ExitCode(1)
        }
        return found
    }
    guard let seq else { throw ValidationError("give an event number or --first QUERY") }
    guard let e = try searcher.timeline.event(seq) else {
        let last = try searcher.timeline.lastEvent()?.seq ?? 0
        FileHandle.standardError.write(Data("pode: there is no event #\(seq) in this trace (it has events #1 to #\(last))\n".utf8))
        throw ExitCode(1)
    }
    return e
}
