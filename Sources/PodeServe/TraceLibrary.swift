import Foundation
import PodeLog
import PodeQuery

/// The traces a server shows, each opened once and reopened when its recording has grown;
/// one request at a time reads a trace.
public final class TraceLibrary: @unchecked Sendable {
    /// The one trace `pode serve --trace DIR` shows, or nil to show every trace under `root`.
    private let only: TraceDirectory?
    private let root: String
    private let lock = NSLock()
    private var open: [String: (api: TraceAPI, logSize: Int)] = [:]

    public init(only: TraceDirectory?, root: String = TraceDirectory.defaultRoot) {
        self.only = only
        self.root = root
    }

    /// A trace's name in URLs: its directory's name.
    public static func id(of trace: TraceDirectory) -> String { (trace.path as NSString).lastPathComponent }

    /// The traces, oldest first, each followed by its forked processes' parts (id `NAME@PID`).
    public func traces() -> [(id: String, trace: TraceDirectory, metadata: TraceMetadata)] {
        let top: [(TraceDirectory, TraceMetadata)]
        if let only {
            guard let m = try? only.readMetadata() else { return [] }
            top = [(only, m)]
        } else {
            top = TraceDirectory.list(root: root)
        }
        return top.flatMap { dir, meta in
            [(Self.id(of: dir), dir, meta)]
                + TraceDirectory.list(root: dir.processesPath).map { (Self.id(of: dir) + "@" + String($0.1.pid), $0.0, $0.1) }
        }
    }

    /// Runs `body` with the API of trace `id` (the newest when nil), alone.
    public func with<T>(_ id: String?, _ body: (TraceAPI) throws -> T) throws -> T {
        let all = traces()
        let chosen: (id: String, trace: TraceDirectory)
        // By default the newest trace's first process.
        guard let found = id.map({ id in all.first { $0.id == id } }) ?? all.last(where: { !$0.id.contains("@") }) else {
            if let only {
                throw APIError.notFound("there is no trace named '\(id ?? "")' here; this server shows only '\(Self.id(of: only))' and its processes")
            }
            if let id {
                let names = all.map(\.id).joined(separator: ", ")
                throw APIError.notFound("there is no trace named '\(id)' here; the traces are: \(names.isEmpty ? "(none)" : names)")
            }
            throw APIError.notFound("there are no traces in ./\(root); record one with 'pode record script.py'")
        }
        chosen = (found.id, found.trace)
        lock.lock()
        defer { lock.unlock() }
        let size = Self.logSize(chosen.trace)
        if let o = open[chosen.id], o.logSize == size { return try body(o.api) }
        let api: TraceAPI
        do {
            api = try TraceAPI(id: chosen.id, trace: chosen.trace)
        } catch let e as QueryError {
            throw APIError(status: 500, message: e.description)
        } catch {
            throw APIError(status: 500, message: "cannot read the trace \(chosen.trace.path): \(error)")
        }
        open[chosen.id] = (api, size)
        return try body(api)
    }

    private static func logSize(_ trace: TraceDirectory) -> Int {
        let attributes = try? FileManager.default.attributesOfItem(atPath: trace.path + "/" + TraceFormat.eventsFile)
        return (attributes?[.size] as? Int) ?? -1
    }
}
