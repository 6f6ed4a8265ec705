import ArgumentParser
import Foundation
import PodeIndex
import PodeLog
import XapianKit

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Finish indexing a trace whose recording stopped before its index was complete.",
        discussion: """
        pode record indexes while the program runs and waits for the index at the end. A recording \
        that was killed (or whose indexer was stopped) leaves part of its log unindexed: searches \
        still read that part event by event, only slower. This command indexes it, from where the \
        index stopped, and says how many events it added. The event log is not changed. With \
        --rebuild the index is made again from the whole log.
        """
    )

    @OptionGroup var traceOptions: TraceOptions

    @Flag(help: "Delete the index and its summaries and index the whole log again.")
    var rebuild = false

    func run() throws {
        // Every process of the trace (a forked child's part too), or the one --pid names.
        for (part, _) in try traceOptions.processes(of: try traceOptions.resolve()) { try index(part) }
    }

    private func index(_ trace: TraceDirectory) throws {
        if trace.isBeingWritten {
            throw CommandFailure("\(trace.path) is still being recorded; its recorder indexes it (wait for the recording to end)")
        }
        let started = Date()
        let added: Int
        do {
            if rebuild {
                for name in [TraceFormat.indexDirectory, TraceFormat.summariesFile] {
                    let path = trace.path + "/" + name
                    if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
                }
            }
            added = try BlockIndexer.complete(traceDirectory: trace.path)
        } catch let e as XapianError where e.isLockError {
            throw CommandFailure("cannot index \(trace.path): another pode process is indexing it (wait for it to finish)")
        } catch {
            throw CommandFailure("cannot index \(trace.path): \(error)")
        }
        let seconds = Date().timeIntervalSince(started)
        let rate = seconds > 0 ? Int(Double(added) / seconds) : 0
        print(added == 0 ? "\(trace.path): the index was already complete"
                         : "\(trace.path): indexed \(added) events in \(String(format: "%.1f", seconds)) s (\(rate) events/s)")
    }
}
