import ArgumentParser
import Foundation
import PodeLog

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the traces under ./.pode, oldest first: command line, start, duration, exit status, events and size."
    )

    @Option(help: "The directory holding traces.")
    var root: String = TraceDirectory.defaultRoot

    func run() throws {
        let traces = TraceDirectory.list(root: root)
        if traces.isEmpty {
            print("no traces in \(root); record one with 'pode record script.py'")
            throw ExitCode(1)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
        formatter.timeZone = .current
        var notes: [String] = []
        var rows = [["TRACE", "STARTED", "DURATION", "EXIT", "EVENTS", "SIZE", "COMMAND"]]
        for (dir, meta) in traces {
            let duration = meta.ended.map { String(format: "%.2fs", $0.timeIntervalSince(meta.started)) } ?? (dir.isBeingWritten ? "running" : "?")
            let exit = meta.exitStatus.map(String.init)
                ?? (meta.execed != nil ? "exec" : meta.state == "complete" ? "signal" : (dir.isBeingWritten ? "-" : "killed"))
            let events = (meta.events.map(String.init) ?? "?") + (meta.recordingStopped == nil ? "" : "*")
            if let why = meta.recordingStopped { notes.append("* \(dir.path): recording stopped before the program ended: \(why)") }
            rows.append([dir.path, formatter.string(from: meta.started), duration, exit, events,
                         Self.humanSize(Self.directorySize(dir.path)), meta.arguments.joined(separator: " ") + Self.processesNote(dir)])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  "))
        }
        for note in notes { print(note) }
    }

    /// " (+N processes)" for a trace whose program forked.
    static func processesNote(_ dir: TraceDirectory) -> String {
        let n = TraceDirectory.list(root: dir.processesPath).count
        return n == 0 ? "" : " (+\(n) process\(n == 1 ? "" : "es"))"
    }

    static func directorySize(_ path: String) -> Int {
        guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total = 0
        for case let name as String in e {
            if let size = (try? FileManager.default.attributesOfItem(atPath: path + "/" + name))?[.size] as? Int { total += size }
        }
        return total
    }

    static func humanSize(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n)
        var u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
    }
}
