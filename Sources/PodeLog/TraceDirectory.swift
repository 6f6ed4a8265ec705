import Foundation

/// What a trace says about its run (trace.json).
public struct TraceMetadata: Codable, Sendable {
    public var format: UInt32
    /// The python command line the run had, after the interpreter: e.g. ["script.py", "arg"].
    public var arguments: [String]
    public var workingDirectory: String
    public var python: String
    public var pid: Int32
    public var started: Date
    /// When the program itself finished (before the last events were indexed).
    public var programEnded: Date?
    /// When the trace was complete: every event written and indexed.
    public var ended: Date?
    /// The process exit status, when the run ended through exit().
    public var exitStatus: Int32?
    public var events: UInt64?
    /// "recording" while the recorder runs, then "complete".
    public var state: String
    /// File path -> file in sources/ holding its text as it was when first run.
    public var sources: [String: String]
    /// Why recording stopped before the program ended (a full disk, say); nil when it did not.
    /// The events before that are all in the trace.
    public var recordingStopped: String?
    /// For a forked child's part (processes/PID): the process it forked from, and that
    /// process's next event number at the fork. The child numbers its own events from 1.
    public var parentPid: Int32?
    /// The program the process replaced itself with (os.exec*), which is not recorded.
    public var execed: String?
    public var forkedAt: UInt64?

    public init(arguments: [String], workingDirectory: String, python: String, pid: Int32, started: Date) {
        format = TraceFormat.version
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.python = python
        self.pid = pid
        self.started = started
        state = "recording"
        sources = [:]
    }
}

/// A trace directory on disk.
public struct TraceDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public var metadataPath: String { path + "/" + TraceFormat.metadataFile }
    public var indexPath: String { path + "/" + TraceFormat.indexDirectory }
    public var lockPath: String { path + "/" + TraceFormat.lockFile }
    public var sourcesPath: String { path + "/" + TraceFormat.sourcesDirectory }
    public var reservePath: String { path + "/" + TraceFormat.reserveFile }

    /// Where forked children's parts go (flat under the first process's trace).
    public var processesPath: String { path + "/" + TraceFormat.processesDirectory }

    /// The processes of this trace: this one, then each forked child's part (children of
    /// children too), in the order they started.
    public func processParts() throws -> [(TraceDirectory, TraceMetadata)] {
        [(self, try readMetadata())] + Self.list(root: processesPath)
    }

    /// Whether `path` looks like a trace (has trace.json and events.log).
    public var isTrace: Bool {
        FileManager.default.fileExists(atPath: metadataPath) && FileManager.default.fileExists(atPath: path + "/" + TraceFormat.eventsFile)
    }

    public func readMetadata() throws -> TraceMetadata {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: metadataPath))
        } catch {
            throw LogFormatError("\(path) is not a pode trace (no readable \(TraceFormat.metadataFile)); pick one with --trace DIR or list them with 'pode ls'")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { d in
            let text = try d.singleValueContainer().decode(String.self)
            guard let date = Self.date(fromText: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: d.codingPath, debugDescription: "not a date: \(text)"))
            }
            return date
        }
        let meta: TraceMetadata
        do {
            meta = try decoder.decode(TraceMetadata.self, from: data)
        } catch {
            throw LogFormatError("\(metadataPath) is damaged (\(error.localizedDescription)); the events may still be readable with a newer pode")
        }
        if meta.format > TraceFormat.version {
            throw LogFormatError("\(path) was written by a newer pode (trace format \(meta.format), this pode reads up to \(TraceFormat.version)); upgrade pode to read it")
        }
        if meta.format < TraceFormat.oldestReadableVersion {
            throw LogFormatError("\(path) was recorded by an older pode (trace format \(meta.format), this pode reads \(TraceFormat.oldestReadableVersion) to \(TraceFormat.version)); record the program again")
        }
        return meta
    }

    /// Writes trace.json atomically (a reader sees the old or the new file, never half). Not
    /// synced to disk: a forked child writes it as it ends, and must end as quickly as without
    /// pode (the event log, not this file, is the truth).
    public func writeMetadata(_ meta: TraceMetadata) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, e in
            var c = e.singleValueContainer()
            try c.encode(Self.dateText(date))
        }
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(meta)
        let tmp = metadataPath + ".tmp"
        do {
            let file = try RawFile(path: tmp, flags: O_WRONLY | O_CREAT | O_TRUNC)
            defer { file.close() }
            try data.withUnsafeBytes { try file.write($0) }
        } catch {
            unlink(tmp)
            throw error
        }
        if rename(tmp, metadataPath) != 0 { throw FileError(path: metadataPath, operation: "replace") }
    }

    /// trace.json's dates, as text: one formatter, made once (making one costs more than
    /// writing the whole file), used under a lock.
    nonisolated(unsafe) private static let formatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
    private static let formatterLock = NSLock()

    static func dateText(_ date: Date) -> String {
        formatterLock.lock()
        defer { formatterLock.unlock() }
        return formatter.string(from: date)
    }

    static func date(fromText text: String) -> Date? {
        formatterLock.lock()
        defer { formatterLock.unlock() }
        return formatter.date(from: text)
    }

    /// Whether a recorder is writing this trace right now.
    public var isBeingWritten: Bool {
        guard let lock = try? RawFile(path: lockPath, flags: O_RDONLY) else { return false }
        return lock.isLockedElsewhere()
    }

    /// The default home of traces: ./.pode
    public static let defaultRoot = ".pode"

    /// Traces directly under `root`, oldest first (by start time in their metadata).
    public static func list(root: String) -> [(TraceDirectory, TraceMetadata)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        var out: [(TraceDirectory, TraceMetadata)] = []
        for name in names {
            let dir = TraceDirectory(path: root + "/" + name)
            if dir.isTrace, let meta = try? dir.readMetadata() { out.append((dir, meta)) }
        }
        return out.sorted { ($0.1.started, $0.0.path) < ($1.1.started, $1.0.path) }
    }
}
