import ArgumentParser
import Foundation
import PodeLog
import PodeServe

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Open the trace in a web browser: search with facets, every moment with its source, stack and locals, stepping both ways, histories and the call tree.",
        discussion: """
        Starts the info browser at http://127.0.0.1:PORT/ and prints its address; stop it with \
        Ctrl-C. It shows every trace under ./.pode (the newest first), or only the one given with \
        --trace. Recorded values can be sensitive, so it listens on this machine only unless \
        --host says otherwise. The page's JSON API is described in docs/serve.md.
        """
    )

    @Option(name: .long, help: "Show only this trace directory. By default every trace under ./.pode is shown.")
    var trace: String?

    @Option(help: "The address to listen on. Anything but a loopback address lets other machines read the recorded values.")
    var host: String = "127.0.0.1"

    @Option(help: "The port to listen on; 0 takes any free port.")
    var port: Int = 7007

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port takes a number from 0 to 65535") }
        guard !host.isEmpty else { throw ValidationError("--host takes an address, such as 127.0.0.1") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        var only: TraceDirectory?
        if let trace { only = try TraceOptions.directory(at: trace) }
        let server: InfoServer
        do {
            let library = TraceLibrary(only: only)
            // A trace named on the command line must be readable before anything is served.
            if only != nil { try library.with(nil) { _ in } }
            server = try InfoServer(library: library, host: host, port: port)
        } catch {
            throw CommandFailure("\(error)")
        }
        if !InfoServer.isLoopback(host) {
            FileHandle.standardError.write(Data("pode: warning: listening on \(host): other machines can read every value this trace recorded\n".utf8))
        }
        let host = self.host
        let failure = FailureBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await server.run { port in
                    let shown = host.contains(":") ? "[\(host)]" : host
                    FileHandle.standardOutput.write(Data("pode: the info browser is at http://\(shown):\(port)/ (Ctrl-C stops it)\n".utf8))
                }
            } catch {
                failure.set("cannot serve on \(host):\(self.port): \(error)")
            }
            done.signal()
        }
        done.wait()
        if let message = failure.message { throw CommandFailure(message) }
    }
}

/// The error the server task ended with, handed back to the waiting command.
private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    var message: String? { lock.withLock { stored } }
    func set(_ m: String) { lock.withLock { stored = m } }
}
