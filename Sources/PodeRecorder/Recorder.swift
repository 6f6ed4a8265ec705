import CPodeRecorder
import Foundation
import PodeIndex
import PodeLog

/// What `pode record` runs.
public enum RecordTarget: Sendable {
    case script(String)
    case module(String)
    case command(String)
}

/// How `pode record` runs and what it keeps.
public struct RecordOptions: Sendable {
    public var target: RecordTarget
    public var arguments: [String]
    /// The interpreter whose installation (stdlib, site-packages, sys.executable) is used.
    public var python: String
    /// The trace directory; nil for a new one under ./.pode
    public var output: String?
    public var recordAll = false
    public var reprFull = false
    public var noValues = false
    public var valueLimit: UInt32 = 256
    public var include: [String] = []
    public var exclude: [String] = []
    /// Whether values with sensitive names or secret shapes are written as <redacted>.
    public var redact = true
    /// Name patterns to redact besides the default ones (POSIX extended, case-insensitive).
    public var redactPatterns: [String] = []

    public init(target: RecordTarget, arguments: [String], python: String) {
        self.target = target
        self.arguments = arguments
        self.python = python
    }
}

/// A problem that stops `pode record` before the program runs.
public struct RecordError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The interpreter pode embeds by default: Debian's, matching the linked libpython3.11.
public let defaultPython = "/usr/bin/python3.11"

/// The running recording: owns the writer and indexer threads while the program runs.
final class RecordingSession: @unchecked Sendable {
    let trace: TraceDirectory
    /// The first process's trace, under which every forked child gets its part.
    let root: TraceDirectory
    /// Whether this records a forked child (into its part under root).
    var isChild: Bool { trace.path != root.path }
    var metadata: TraceMetadata
    let writer: LogWriter
    let lock: RawFile
    /// Sources kept before the program ran, by the file name Python gives their code: the
    /// script (which the program may delete or rewrite) and `-c` code ("<string>").
    let presetSources: [String: String]
    /// Whether kept sources have their secrets replaced (see Redaction.source).
    let redact: Bool
    private var writerThread: pthread_t?
    private var indexerThread: pthread_t?
    private let state = NSCondition()
    private var writerDone = false
    private var indexerDone = false
    private var indexedEvents: UInt64 = 0
    private var indexerError: String?
    /// A forked child ends without waiting for its index (the first process, or 'pode index',
    /// finishes it): its exit must stay as quick as it is without pode.
    private var stopIndexing = false
    private var finalizing = false
    private var finalized = false
    /// While the process forks (see holdThreadsForFork): the writer and the indexer stop at
    /// their next safe point and wait.
    private var forking = false
    /// The writer and indexer threads neither ended nor stopped for a fork.
    private var threadsAtWork = 0
    private var seenFiles = Set<String>()

    init(trace: TraceDirectory, root: TraceDirectory, metadata: TraceMetadata, writer: LogWriter, lock: RawFile,
         presetSources: [String: String], redact: Bool) {
        self.redact = redact
        self.trace = trace
        self.root = root
        self.metadata = metadata
        self.writer = writer
        self.lock = lock
        self.presetSources = presetSources
    }

    // MARK: writer thread

    /// Drains the recorder's ring to events.log until recording stops.
    func runWriter() {
        var view = PodeRingView()
        var failed = false
        while true {
            state.lock()
            waitWhileForking()
            state.unlock()
            let r = pode_ring_next(&view, 20)
            if r < 0 { break }
            if r == 0 || failed { continue }  // after a failed write, nothing more: no gaps
            do {
                var defsLength = 0
                if let defs = pode_definitions_take(&defsLength), defsLength > 0 {
                    let records = UnsafeRawBufferPointer(start: defs, count: defsLength)
                    keepSources(records)
                    try writer.appendDefinitions(records)
                }
                try writer.appendFrame(UnsafeRawBufferPointer(start: view.data, count: Int(view.length)),
                                       baseSeq: view.base_seq, baseTime: view.base_time_ns)
            } catch {
                // The program goes on unrecorded; everything written so far stays readable.
                failed = true
                state.lock()
                metadata.recordingStopped = "\(error)"
                state.unlock()
                reportOnce("pode: recording stopped: \(error)")
                pode_recorder_abandon()
            }
        }
        state.lock()
        writerDone = true
        threadsAtWork -= 1
        state.broadcast()
        state.unlock()
    }

    private var reported = false
    private func reportOnce(_ message: String) {
        state.lock()
        defer { state.unlock() }
        guard !reported else { return }
        reported = true
        FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
    }

    /// Copies each newly seen source file into the trace, so later edits cannot mislead.
    private func keepSources(_ records: UnsafeRawBufferPointer) {
        var defs = Definitions()
        guard (try? defs.add(records: records)) != nil else { return }
        for code in defs.codes.values where !seenFiles.contains(code.file) {
            seenFiles.insert(code.file)
            let text: String?
            if let preset = presetSources[code.file] { text = preset }
            else if code.file.hasPrefix("<") { text = nil }
            else { text = (try? String(contentsOfFile: code.file, encoding: .utf8)).map { redact ? Redaction.source($0) : $0 } }
            guard let text else { continue }
            let name = "\(seenFiles.count).txt"
            if FileManager.default.createFile(atPath: trace.sourcesPath + "/" + name, contents: Data(text.utf8),
                                              attributes: [.posixPermissions: 0o600]) {
                state.lock()
                metadata.sources[code.file] = name
                state.unlock()
            }
        }
    }

    // MARK: indexer thread

    /// Indexes whole blocks while the program runs, so searches stay fast on long runs.
    private var indexer: Result<BlockIndexer, Error>?

    /// Opens the index before the program runs (see LowDescriptors); the indexer thread uses it.
    func openIndex() {
        indexer = Result { try BlockIndexer(traceDirectory: trace.path, reader: try LogReader(directory: trace.path)) }
    }

    func runIndexer() {
        do {
            guard let indexer = try indexer?.get() else { throw RecordError("the index was not opened") }
            var added = 0
            while true {
                state.lock()
                // Behind the log, go on at once; waiting then would leave the indexer's core idle
                // while blocks pile up. Caught up, wait for more.
                if !writerDone && added == 0 { _ = state.wait(until: Date().addingTimeInterval(0.25)) }
                waitWhileForking()
                let done = writerDone
                state.unlock()
                // Asked before each frame: a safe point to stop at while the process forks.
                added = try indexer.indexAvailable(final: done, shouldStop: {
                                               self.state.lock(); defer { self.state.unlock() }
                                               self.waitWhileForking()
                                               return self.stopIndexing
                                           },
                                           // Once the program has ended, its core is free for storing blocks.
                                           storeAlongside: { self.state.lock(); defer { self.state.unlock() }; return self.finalizing }) { added in
                    state.lock()
                    indexedEvents += UInt64(added)
                    state.unlock()
                }
                state.lock()
                let stop = stopIndexing
                state.unlock()
                if stop { parkIndexer() }
                if done { break }
            }
            try indexer.close()
            IndexCompaction.compactIfSmall(traceDirectory: trace.path)
        } catch {
            // Said at the end, unless the writer had a worse problem to report (a full disk
            // usually stops both): one line either way.
            state.lock()
            indexerError = "pode: indexing stopped: \(error) (the event log is intact; searches read what is not indexed, and 'pode index' finishes the index)"
            state.unlock()
        }
        state.lock()
        indexerDone = true
        threadsAtWork -= 1
        state.broadcast()
        state.unlock()
    }

    /// A forked child's indexer, told to stop as the child ends: it neither commits nor closes
    /// the index (the first process indexes the rest), and waits here until the process is gone.
    private func parkIndexer() -> Never {
        state.lock()
        indexerDone = true
        threadsAtWork -= 1
        state.broadcast()
        while true { state.wait() }
    }

    /// Waits for the indexer to finish after the program ended; on a terminal, a progress
    /// line on stderr says how far it is when that takes more than a moment (then is erased).
    private func waitForIndexer() {
        let showProgress = isatty(STDERR_FILENO) == 1
        let total = pode_recorder_event_count()
        let start = Date()
        var shown = false
        state.lock()
        while !indexerDone && indexerThread != nil {
            _ = state.wait(until: Date().addingTimeInterval(0.2))
            guard showProgress, !indexerDone, Date().timeIntervalSince(start) > 0.5, total > 0 else { continue }
            let percent = min(100, indexedEvents * 100 / total)
            let line = "\rpode: indexing the trace: \(percent)% (\(indexedEvents) of \(total) events)"
            FileHandle.standardError.write(line.data(using: .utf8)!)
            shown = true
        }
        state.unlock()
        if shown { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!) }
    }

    func startThreads() {
        state.lock()
        threadsAtWork += 2
        state.unlock()
        writerThread = startThread(named: "pode-writer") { session in session.runWriter() }
        indexerThread = startThread(named: "pode-indexer") { session in
            // The program comes first while it runs (see pode_recorder_lower_thread_priority).
            pode_recorder_lower_thread_priority(10)
            session.runIndexer()
        }
        state.lock()
        threadsAtWork -= (writerThread == nil ? 1 : 0) + (indexerThread == nil ? 1 : 0)
        state.unlock()
    }

    /// Starts one of pode's own threads, named (at most 15 bytes) so that `top -H` and a profile
    /// tell it from the program's threads.
    private func startThread(named name: String, _ body: @escaping (RecordingSession) -> Void) -> pthread_t? {
        let box = Unmanaged.passRetained(ThreadBox(session: self, name: name, body: body))
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<ThreadBox>.fromOpaque(raw!).takeRetainedValue()
            pode_recorder_begin_own_thread(box.name)
            box.body(box.session)
            return nil
        }, box.toOpaque())
        if rc != 0 {
            box.release()
            return nil
        }
        return thread
    }

    /// Takes `trace`'s writer lock and makes the files a recording keeps open, at high descriptor
    /// numbers (see LowDescriptors): trace.json, the reserved space, the logs and the index.
    static func open(_ trace: TraceDirectory, root: TraceDirectory, metadata: TraceMetadata, presetSources: [String: String],
                     redact: Bool) throws -> RecordingSession {
        try LowDescriptors.keepFree {
            let lock = try RawFile(path: trace.lockPath, flags: O_RDWR | O_CREAT)
            guard lock.tryLock() else {
                throw RecordError("cannot record into \(trace.path): another pode process is writing it (wait for it to finish or choose another -o DIR)")
            }
            try trace.writeMetadata(metadata)
            try Recorder.reserveSpace(in: trace)
            let session = RecordingSession(trace: trace, root: root, metadata: metadata, writer: try LogWriter(directory: trace.path),
                                           lock: lock, presetSources: presetSources, redact: redact)
            session.openIndex()
            return session
        }
    }

    // MARK: forks

    /// Before the process forks, in the forking thread: waits until the writer and the indexer
    /// have stopped where they hold no lock. They run Swift code, and a child inherits every
    /// lock as it was at the fork: one that a thread of pode held then (in Swift's runtime, which
    /// a first use of a generic type takes) would never be let go of there, and the child would
    /// wait for it forever. The wait is short: the writer stops between frames of the ring, the
    /// indexer between frames of the log.
    func holdThreadsForFork() {
        state.lock()
        forking = true
        state.broadcast()  // an indexer waiting for more of the log stops at once
        state.unlock()
        pode_ring_wake_consumer()  // and so does a writer waiting for events
        state.lock()
        while threadsAtWork > 0 { state.wait() }
        state.unlock()
    }

    /// After the fork, in the parent: lets the writer and the indexer go on.
    func releaseThreadsAfterFork() {
        state.lock()
        forking = false
        state.broadcast()
        state.unlock()
    }

    /// At a safe point of the writer or the indexer (`state` locked): waits while the process
    /// forks.
    private func waitWhileForking() {
        guard forking else { return }
        threadsAtWork -= 1
        state.broadcast()
        while forking { state.wait() }
        threadsAtWork += 1
    }

    /// In a forked child (only its forking thread exists): lets go of this process's files
    /// without closing its index (the parent still writes it) and starts the child's own part,
    /// processes/PID under the first trace. Nil when the part cannot be made: the child then
    /// runs unrecorded.
    func forkedChild(parentPid: Int32, forkSeq: UInt64) -> RecordingSession? {
        lock.close()
        writer.close()
        let pid = getpid()
        do {
            let part = try Recorder.createTraceDirectory(root.processesPath + "/" + String(pid), label: "")
            var meta = TraceMetadata(arguments: metadata.arguments, workingDirectory: FileManager.default.currentDirectoryPath,
                                     python: metadata.python, pid: pid, started: Date())
            meta.parentPid = parentPid
            meta.forkedAt = forkSeq
            let child = try RecordingSession.open(part, root: root, metadata: meta, presetSources: presetSources, redact: redact)
            child.startThreads()
            return child
        } catch {
            FileHandle.standardError.write(Data("pode: the forked process \(pid) is not recorded: \(error)\n".utf8))
            return nil
        }
    }

    // MARK: the end

    /// Runs when the interpreter finalizes: waits until every event is on disk and indexed.
    func finalize() {
        state.lock()
        if finalizing {
            // Another thread is finishing the trace (a SIGTERM arrived during os._exit, say):
            // wait until it is done, so the process never ends halfway through.
            while !finalized { state.wait() }
            state.unlock()
            return
        }
        finalizing = true
        metadata.programEnded = Date()
        if isChild { stopIndexing = true }
        state.unlock()
        if let t = writerThread { pthread_join(t, nil) }
        waitForIndexer()
        // A child's indexer is parked, never done (see parkIndexer).
        if let t = indexerThread, !isChild { pthread_join(t, nil) }
        writer.close()
        if let indexerError { reportOnce(indexerError) }
        // Frees the space kept for this last trace.json (see TraceFormat.reserveFile).
        unlink(trace.reservePath)
        state.lock()
        metadata.ended = Date()
        // After an early stop the log holds fewer events than were recorded: count those.
        metadata.events = metadata.recordingStopped == nil ? pode_recorder_event_count() : lastSeqInLog()
        metadata.state = "complete"
        let meta = metadata
        state.unlock()
        try? trace.writeMetadata(meta)
        if !isChild { finishChildIndexes() }
        state.lock()
        finalized = true
        state.broadcast()
        state.unlock()
    }

    /// Indexes what forked children that have ended left unindexed (see stopIndexing).
    private func finishChildIndexes() {
        for (part, _) in TraceDirectory.list(root: root.processesPath) where !part.isBeingWritten {
            _ = try? BlockIndexer.complete(traceDirectory: part.path)
        }
    }

    /// The seq of the last event in events.log (0 when it has none).
    private func lastSeqInLog() -> UInt64 {
        guard let reader = try? LogReader(directory: trace.path) else { return 0 }
        var last: LogFrame?
        _ = try? reader.forEachFrame(from: LogReader.firstFrameOffset) { last = $0; return true }
        return (try? last?.events().last?.seq) ?? 0
    }

    /// The process replaced itself with the program at `path` (os.exec*).
    func recordExec(_ path: String) { finishNoting { $0.execed = path } }

    func recordExitStatus(_ status: Int32) { finishNoting { $0.exitStatus = status } }

    /// Finishes the trace, then notes how the process ended in trace.json.
    private func finishNoting(_ note: (inout TraceMetadata) -> Void) {
        finalize()
        state.lock()
        note(&metadata)
        let meta = metadata
        state.unlock()
        try? trace.writeMetadata(meta)
    }
}

final class ThreadBox {
    let session: RecordingSession
    let name: String
    let body: (RecordingSession) -> Void
    init(session: RecordingSession, name: String, body: @escaping (RecordingSession) -> Void) {
        self.session = session
        self.name = name
        self.body = body
    }
}

nonisolated(unsafe) private var activeSession: RecordingSession?
/// The sessions of the processes this one forked from (see forkedChild).
nonisolated(unsafe) private var forkedSessions: [RecordingSession] = []

/// Records a Python run.
public enum Recorder {
    /// Prepares the trace, runs the program under the recorder and exits with the program's
    /// status, as python would. Throws only before the program starts.
    public static func run(_ options: RecordOptions) throws -> Never {
        let python = try resolveInterpreter(options.python)
        try Redaction.configure(enabled: options.redact, patterns: options.redactPatterns)
        var pythonArgs: [String]
        var label: String
        var presetSources: [String: String] = [:]
        switch options.target {
        case .script(let path):
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw RecordError("cannot record \(path): no such file (check the path; pode record takes the same arguments as python3)")
            }
            if !isDir.boolValue && !FileManager.default.isReadableFile(atPath: path) {
                throw RecordError("cannot record \(path): the file is not readable (check its permissions)")
            }
            pythonArgs = [path]
            label = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            // Kept now: the program may delete or rewrite its own script. Python names the
            // script's code by the path joined to the working directory, as given.
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                presetSources[path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path] = text
            }
        case .module(let name):
            pythonArgs = ["-m", name]
            label = name
        case .command(let code):
            pythonArgs = ["-c", code]
            label = "command"
            presetSources["<string>"] = code
        }
        pythonArgs += options.arguments

        let trace = try createTraceDirectory(options.output, label: label)
        // The files pode keeps open while the program runs take high descriptor numbers.
        let metadata = TraceMetadata(arguments: Redaction.arguments(pythonArgs), workingDirectory: FileManager.default.currentDirectoryPath,
                                     python: python, pid: getpid(), started: Date())
        let session = try RecordingSession.open(trace, root: trace, metadata: metadata,
                                                presetSources: presetSources.mapValues { options.redact ? Redaction.source($0) : $0 },
                                                redact: options.redact)
        activeSession = session

        // Start the interpreter exactly as `python3.11 ARGS` would.
        let argv = [python] + pythonArgs
        var cargs = argv.map { strdup($0) }
        pode_python_initialize(python, Int32(cargs.count), &cargs)

        var cInclude = options.include.map { UnsafePointer(strdup($0)) }
        var cExclude = options.exclude.map { UnsafePointer(strdup($0)) }
        var errorText = [CChar](repeating: 0, count: 512)
        let started = cInclude.withUnsafeMutableBufferPointer { inc in
            cExclude.withUnsafeMutableBufferPointer { exc in
                var opts = PodeRecorderOptions(
                    record_all: options.recordAll ? 1 : 0, repr_full: options.reprFull ? 1 : 0, no_values: options.noValues ? 1 : 0,
                    value_limit: options.valueLimit, include_globs: inc.baseAddress, include_count: Int32(inc.count),
                    exclude_globs: exc.baseAddress, exclude_count: Int32(exc.count))
                return pode_recorder_start(&opts, &errorText, errorText.count)
            }
        }
        if started != 0 {
            let message = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw RecordError("cannot start recording: \(message)")
        }
        pode_recorder_set_callbacks({ activeSession?.finalize() }, { status in activeSession?.recordExitStatus(status) })
        pode_recorder_set_fork_gate({ activeSession?.holdThreadsForFork() }, { activeSession?.releaseThreadsAfterFork() })
        pode_recorder_set_exec_callback { path in activeSession?.recordExec(path.map { String(cString: $0) } ?? "?") }
        pode_recorder_set_fork_callback { parentPid, forkSeq in
            guard let child = activeSession?.forkedChild(parentPid: Int32(truncatingIfNeeded: parentPid), forkSeq: forkSeq) else { return -1 }
            forkedSessions.append(activeSession!)  // kept, never deinitialized: its index is the parent's
            activeSession = child
            return 0
        }
        session.startThreads()
        let status = pode_python_run_main()
        exit(status)
    }

    /// The real interpreter behind `path` (a pyenv shim or a symlink is asked for its
    /// sys.executable, which keeps a virtualenv's own path); it must be Python 3.11, the version
    /// pode embeds.
    static func resolveInterpreter(_ path: String) throws -> String {
        let candidate = absolutePath(path)
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw RecordError("cannot use the interpreter \(path): it is not an executable file (pass --python PATH to a Python 3.11 interpreter)")
        }
        if candidate == defaultPython { return candidate }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: candidate)
        probe.arguments = ["-I", "-c", "import sys; print(sys.version_info[0], sys.version_info[1]); print(sys.executable)"]
        let out = Pipe()
        probe.standardOutput = out
        probe.standardError = FileHandle.nullDevice
        probe.standardInput = FileHandle.nullDevice
        do { try probe.run() } catch {
            throw RecordError("cannot run the interpreter \(candidate): \(error.localizedDescription)")
        }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        probe.waitUntilExit()
        let lines = text.split(separator: "\n").map(String.init)
        guard probe.terminationStatus == 0, lines.count >= 2 else {
            throw RecordError("cannot use the interpreter \(candidate): it did not start (is it a Python interpreter?)")
        }
        guard lines[0] == "3 11" else {
            throw RecordError("cannot use the interpreter \(candidate): it is Python \(lines[0].replacingOccurrences(of: " ", with: ".")), and pode embeds Python 3.11 (pass --python PATH to a 3.11 interpreter or virtualenv)")
        }
        return lines[1].hasPrefix("/") ? lines[1] : candidate
    }

    static func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if !path.contains("/") {
            // A bare name: look it up on PATH, as a shell would.
            for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
                let candidate = String(dir) + "/" + path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return FileManager.default.currentDirectoryPath + "/" + path
    }

    /// Sets space aside for the last trace.json (freed by finalize), so that a program that
    /// fills the disk still leaves a complete trace of what was recorded.
    static func reserveSpace(in trace: TraceDirectory) throws {
        let fd = open(trace.reservePath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RecordError("cannot record into \(trace.path): \(String(cString: strerror(errno))) (free some disk space or choose another -o DIR)") }
        defer { close(fd) }
        let rc = posix_fallocate(fd, 0, off_t(TraceFormat.reserveBytes))
        if rc != 0 {
            unlink(trace.reservePath)
            throw RecordError("cannot record into \(trace.path): \(String(cString: strerror(rc))) (free some disk space or choose another -o DIR)")
        }
    }

    /// Creates the trace directory (owner-only): `-o DIR`, or ./.pode/LABEL-TIME.
    static func createTraceDirectory(_ output: String?, label: String) throws -> TraceDirectory {
        let fm = FileManager.default
        var path: String
        if let output {
            path = output
            if fm.fileExists(atPath: path) {
                let existing = TraceDirectory(path: path)
                if existing.isBeingWritten {
                    throw RecordError("cannot record into \(path): another pode process is writing it (wait for it to finish or choose another -o DIR)")
                }
                let contents = (try? fm.contentsOfDirectory(atPath: path)) ?? []
                if !contents.isEmpty {
                    throw RecordError("cannot record into \(path): it is not empty (choose a new directory, or remove this one)")
                }
            }
        } else {
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd-HHmmss"
            formatter.locale = Locale(identifier: "en_US_POSIX")
            let stamp = formatter.string(from: Date())
            let safe = String(label.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." ? $0 : "_" })
            var candidate = TraceDirectory.defaultRoot + "/" + safe + "-" + stamp
            var n = 2
            while fm.fileExists(atPath: candidate) {
                candidate = TraceDirectory.defaultRoot + "/" + safe + "-" + stamp + "-" + String(n)
                n += 1
            }
            path = candidate
        }
        // Absolute, so that a program that changes directory does not move pode's files.
        if !path.hasPrefix("/") { path = fm.currentDirectoryPath + "/" + path }
        do {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try fm.createDirectory(atPath: path + "/" + TraceFormat.sourcesDirectory, withIntermediateDirectories: true,
                                   attributes: [.posixPermissions: 0o700])
        } catch {
            throw RecordError("cannot create the trace directory \(path): \(error.localizedDescription)")
        }
        return TraceDirectory(path: path)
    }
}
