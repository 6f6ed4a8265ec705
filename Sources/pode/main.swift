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

var command: ParsableCommand
do {
    command = try Pode.parseAsRoot(arguments)
} catch let e as ValidationError {
    fail(e.message)
} catch {
    if Pode.exitCode(for: error) == .success {
        print(Pode.fullMessage(for: error))
        exit(0)
    }
    FileHandle.standardError.write(Data((Pode.fullMessage(for: error) + "\n").utf8))
    exit(2)
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
    // ArgumentParser's own errors (help asked for through a subcommand) say what to print.
    if Pode.exitCode(for: error) == .success {
        print(Pode.fullMessage(for: error))
        exit(0)
    }
    let message = Pode.fullMessage(for: error)
    fail(message.isEmpty ? String(describing: error) : message)
}
