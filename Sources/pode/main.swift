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
func exitForParserError(_ error: Error) -> Never {
    if Pode.exitCode(for: error) == .success {
        print(Pode.fullMessage(for: error))
        exit(0)
    }
    let message = Pode.fullMessage(for: error)
    FileHandle.standardError.write(Data(((message.isEmpty ? "pode: \(error)" : message) + "\n").utf8))
    exit(2)
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
