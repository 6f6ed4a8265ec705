import ArgumentParser
import Foundation

// `pode record` takes python's own command line after its options, so it is split off here
// before ArgumentParser sees it; `--facets` takes an optional value.
var arguments = Array(CommandLine.arguments.dropFirst())
arguments = RecordCommand.separatePythonArguments(arguments)
arguments = SearchCommand.normalizeFacets(arguments)

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("pode: " + message + "\n").utf8))
    exit(2)
}

/// Ends the program for an error ArgumentParser knows: help asked for (exit 0), else its message.
@MainActor func exitForParserError(_ error: Error) -> Never {
    if Pode.exitCode(for: error) == .success {
        print(Pode.fullMessage(for: error))
        exit(0)
    }
    // One line, as every other pode error, pointing at the help of the command that was meant.
    let message = Pode.message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
    let names = Pode.configuration.subcommands.map { $0._commandName }
    let sub = arguments.first.flatMap { names.contains($0) ? " \($0)" : nil } ?? ""
    fail((message.isEmpty ? "\(error)" : message.split(separator: "\n").joined(separator: " ")) + " (see 'pode\(sub) --help')")
}

var command: ParsableCommand
do {
    command = try Pode.parseAsRoot(arguments)
} catch let e as ValidationError {
    fail(e.message)
} catch {
    exitForParserError(error)
}
do {
    try command.run()
    exit(0)
} catch let code as ExitCode {
    exit(code.rawValue)
} catch let e as CommandFailure {
    fail(e.description)
} catch let e as ValidationError {
    fail(e.message)
} catch {
    // Help asked for through a subcommand arrives here from its run().
    exitForParserError(error)
}
