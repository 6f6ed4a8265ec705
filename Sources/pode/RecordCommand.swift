import ArgumentParser
import Foundation
import PodeRecorder

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run a Python program exactly as python3 would, and record every event of it.",
        discussion: """
        Everything after pode's own options is python's command line: a script and its \
        arguments, '-m MODULE args...' or '-c CODE args...'. The program's output, input, \
        exceptions and exit status are its own. Every call, line, return and exception in your \
        code is recorded with the values that changed; library code is left out unless you ask \
        for it with --all or --include.
        """
    )

    @Option(name: [.customShort("o"), .long], help: "The directory to write the trace to. By default a new directory under ./.pode named after the program and the time.")
    var output: String?

    @Option(help: "The Python 3.11 interpreter whose installation (standard library, site-packages, virtualenv) the program runs with.")
    var python: String = defaultPython

    @Flag(help: "Record library and standard-library code too, not only your own files.")
    var all = false

    @Option(name: .customLong("include"), help: "Record files matching this glob even if they are library code. Can be repeated.")
    var include: [String] = []

    @Option(name: .customLong("exclude"), help: "Never record files matching this glob. Can be repeated; wins over --include.")
    var exclude: [String] = []

    @Option(name: .customLong("repr"), help: "How values are rendered: 'safe' renders them without running any of the program's code; 'full' calls the objects' own __repr__ (guarded: errors are recorded, not raised).")
    var reprMode: String = "safe"

    @Option(name: .customLong("max-value"), help: "The most bytes of a value's rendering to keep; longer values are cut and their true length noted.")
    var maxValue: UInt32 = 256

    @Flag(name: .customLong("no-values"), help: "Record events only, without any values.")
    var noValues = false

    @Option(name: .customLong("redact"), help: "Also write as <redacted> the values of variables, arguments, attributes and dict keys whose names match this POSIX extended regular expression (case-insensitive). Can be repeated. By default names matching password, passwd, secret, token, api_key, apikey, auth, credential, private_key, session or cookie are redacted, and so are values that look like secrets (private keys, access keys, bearer tokens, JWTs, ghp_/xoxb-/sk_live_ tokens).")
    var redact: [String] = []

    @Flag(name: .customLong("no-redact"), help: "Record every value as it is, secrets included.")
    var noRedact = false

    @Argument(parsing: .captureForPassthrough, help: "The program: SCRIPT [ARGS...], -m MODULE [ARGS...] or -c CODE [ARGS...].")
    var program: [String] = []

    /// Options of `pode record` that take a value.
    static let valueOptions: Set<String> = ["-o", "--output", "--python", "--include", "--exclude", "--repr", "--max-value", "--redact"]

    /// Puts "--" between pode's options and python's command line, so that ArgumentParser
    /// passes the program's own options through untouched.
    static func separatePythonArguments(_ args: [String]) -> [String] {
        guard args.first == "record" else { return args }
        var i = 1
        while i < args.count {
            let a = args[i]
            if a == "--" { return args }
            if a == "-m" || a == "-c" || !a.hasPrefix("-") || a == "-" { break }
            if a == "-h" || a == "--help" { return args }
            i += valueOptions.contains(a) ? 2 : 1
        }
        guard i < args.count else { return args }
        return Array(args[..<i]) + ["--"] + Array(args[i...])
    }

    func validate() throws {
        if noRedact && !redact.isEmpty { throw ValidationError("--redact and --no-redact cannot be used together") }
    }

    func run() throws {
        let program = self.program.first == "--" ? Array(self.program.dropFirst()) : self.program
        // Python's command line is passed through untouched, so help asked for before it lands here.
        if self.program.first == "-h" || self.program.first == "--help" {
            print(Pode.helpMessage(for: RecordCommand.self))
            return
        }
        guard let first = program.first else {
            throw ValidationError("nothing to record: give a script (pode record script.py args...), -m MODULE or -c CODE")
        }
        let target: RecordTarget
        var rest: [String]
        switch first {
        case "-m", "-c":
            guard program.count >= 2 else { throw ValidationError("\(first) needs an argument, as with python3 \(first) ...") }
            target = first == "-m" ? .module(program[1]) : .command(program[1])
            rest = Array(program.dropFirst(2))
        default:
            target = .script(first)
            rest = Array(program.dropFirst())
        }
        guard reprMode == "safe" || reprMode == "full" else {
            throw ValidationError("--repr takes 'safe' or 'full', not '\(reprMode)'")
        }
        var options = RecordOptions(target: target, arguments: rest, python: python)
        options.output = output
        options.recordAll = all
        options.include = include
        options.exclude = exclude
        options.reprFull = reprMode == "full"
        options.valueLimit = max(16, maxValue)
        options.noValues = noValues
        options.redact = !noRedact
        options.redactPatterns = redact
        do {
            try Recorder.run(options)
        } catch let e as RecordError {
            throw CommandFailure(e.description)
        }
    }
}
