import Foundation
import Hummingbird
import Logging
import NIOCore

/// `pode serve`: the info browser's page and its JSON API (docs/serve.md) over HTTP.
public struct InfoServer: Sendable {
    public let library: TraceLibrary
    public let host: String
    public let port: Int
    private let page: StaticPage

    /// Fails when the page's files are missing beside the binary.
    public init(library: TraceLibrary, host: String = "127.0.0.1", port: Int = 8080) throws {
        self.library = library
        self.host = host
        self.port = port
        page = try StaticPage()
    }

    /// Whether `host` only takes connections from this machine.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Serves until the task is cancelled; `started` gets the port it listens on (useful with
    /// port 0, which takes any free port).
    public func run(started: @escaping @Sendable (Int) -> Void) async throws {
        var logger = Logger(label: "pode.serve")
        logger.logLevel = .error
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "pode"),
            onServerRunning: { channel in started(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let page = self.page
        for file in StaticPage.files {
            router.get(RouterPath(file.route)) { _, _ in page.response(file.name) }
        }
        let library = self.library
        func api(_ path: String, _ answer: @escaping @Sendable (Parameters, TraceAPI) throws -> [String: Any]) {
            router.get(RouterPath("/api/" + path)) { request, context in
                Self.json {
                    let p = Parameters(query: request.uri.query, path: context.parameters)
                    return try library.with(p.string("trace")) { try answer(p, $0) }
                }
            }
        }
        router.get("/api/traces") { _, _ in
            Self.json {
                ["traces": library.traces().reversed().map { t -> [String: Any] in
                    var d: [String: Any] = ["id": t.id, "path": t.trace.path, "arguments": t.metadata.arguments,
                                            "started": ISO8601DateFormatter().string(from: t.metadata.started), "state": t.metadata.state]
                    if let n = t.metadata.events { d["events"] = n }
                    return d
                }]
            }
        }
        api("trace") { _, api in try api.info() }
        api("search") { p, api in
            try api.search(try p.query(), after: try p.number("after"), before: try p.number("before"), limit: try p.limit())
        }
        api("facets") { p, api in try api.facets(try p.query()) }
        api("timeline") { p, api in try api.timeline(try p.query(), buckets: Int(try p.number("buckets") ?? 100)) }
        api("event/:seq") { p, api in try api.event(seq: try p.seq()) }
        api("moment/:seq") { p, api in try api.moment(seq: try p.seq(), frame: Int(try p.number("frame") ?? 0)) }
        api("step/:seq") { p, api in
            guard let move = p.string("move") else {
                throw APIError.badRequest("say where to move with move=NAME; the moves are \(TraceAPI.moves.joined(separator: ", "))")
            }
            return try api.step(from: try p.seq(), move: move, frame: Int(try p.number("frame") ?? 0), query: p.string("q"))
        }
        api("history") { p, api in
            guard let name = p.string("var") else { throw APIError.badRequest("name the variable with var=NAME") }
            return try api.history(of: name, frame: try p.number("frame"), after: try p.number("after"), limit: try p.limit())
        }
        api("calls") { p, api in try api.calls(under: try p.number("under"), after: try p.number("after"), limit: try p.limit()) }
        router.get("/api/**") { request, _ in
            Self.json { throw APIError.notFound("there is no API at \(request.uri.path); see docs/serve.md") }
        }
        return router
    }

    /// A JSON response: `answer`'s object, or `{"error": {"status", "message"}}` with the
    /// error's status. Nothing a request does stops the server.
    static func json(_ answer: () throws -> [String: Any]) -> Response {
        var status = 200
        var object: [String: Any]
        do {
            object = try answer()
        } catch let e as APIError {
            status = e.status
            object = ["error": ["status": e.status, "message": e.message]]
        } catch {
            status = 500
            object = ["error": ["status": 500, "message": "the request failed: \(error)"]]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data(#"{"error":{"status":500,"message":"the answer could not be written as JSON"}}"#.utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A request's parameters: the query string (form-encoded, `+` for a space) and the path's.
struct Parameters: Sendable {
    private var values: [String: String] = [:]
    private let seqText: String?

    init(query: String?, path: Hummingbird.Parameters) {
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let plain = s.replacingOccurrences(of: "+", with: " ")
                return plain.removingPercentEncoding ?? plain
            }
            values[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        seqText = path.get("seq")
    }

    /// A parameter's text; nil when absent or empty.
    func string(_ name: String) -> String? {
        guard let v = values[name], !v.isEmpty else { return nil }
        return v
    }

    func number(_ name: String) throws -> UInt64? {
        guard let text = string(name) else { return nil }
        guard let n = UInt64(text) else { throw APIError.badRequest("\(name)=\(text) is not a number; give a whole number of 0 or more") }
        return n
    }

    func query() throws -> String {
        guard let q = string("q"), !q.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIError.badRequest("the query is empty: give one with q=QUERY (the language of pode search)")
        }
        return q
    }

    func limit() throws -> Int {
        let n = try number("limit") ?? 50
        guard n >= 1 && n <= UInt64(TraceAPI.maxPage) else {
            throw APIError.badRequest("limit=\(n) is out of range; give 1 to \(TraceAPI.maxPage)")
        }
        return Int(n)
    }

    /// The event number in the path.
    func seq() throws -> UInt64 {
        guard let text = seqText, let n = UInt64(text.hasPrefix("#") ? String(text.dropFirst()) : text) else {
            throw APIError.badRequest("'\(seqText ?? "")' is not an event number")
        }
        return n
    }
}

/// The page: static HTML, CSS and JavaScript shipped as the package's resources, read once.
struct StaticPage: Sendable {
    static let files: [(route: String, name: String)] = [("/", "index.html"), ("/app.js", "app.js"), ("/app.css", "app.css")]
    private let contents: [String: Data]

    init() throws {
        var contents: [String: Data] = [:]
        let dir = try Self.directory()
        for file in Self.files {
            guard let data = FileManager.default.contents(atPath: dir + "/" + file.name) else {
                throw APIError(status: 500, message: "the info browser's page is incomplete: \(dir)/\(file.name) is missing; rebuild pode with 'swift build'")
            }
            contents[file.name] = data
        }
        self.contents = contents
    }

    /// Where the resources are: beside the executable, as SwiftPM puts them.
    static func directory() throws -> String {
        let bundleName = "pode_PodeServe.resources"
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        let candidates = [Bundle.main.bundlePath + "/" + bundleName, executable + "/" + bundleName]
            .flatMap { [$0 + "/Static", $0] }
        for dir in candidates where FileManager.default.fileExists(atPath: dir + "/index.html") { return dir }
        throw APIError(status: 500, message: "the info browser's page is missing: looked for \(bundleName) beside the pode binary; rebuild pode with 'swift build'")
    }

    func response(_ name: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = switch name {
        case "app.js": "text/javascript; charset=utf-8"
        case "app.css": "text/css; charset=utf-8"
        default: "text/html; charset=utf-8"
        }
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: contents[name] ?? Data())))
    }
}
