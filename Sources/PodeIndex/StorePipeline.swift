import Foundation

/// Stores prepared blocks on a thread of its own, one at a time and in the order given, while
/// the caller reads and prepares the next ones: the two halves of indexing (reading a block and
/// splitting its texts; making its summary and document, and Xapian adding and committing it)
/// then run on two cores.
///
/// @unchecked Sendable: blocks are handed over under `condition`, and while the thread runs it
/// alone calls `store` (the caller touches what `store` does only after finish() or abandon()).
final class StorePipeline: @unchecked Sendable {
    private let condition = NSCondition()
    private let store: (BlockIndexer.PreparedBlock) throws -> Void
    private var queue: [BlockIndexer.PreparedBlock] = []
    private var closed = false
    private var running = true
    private var failure: Error?
    /// Blocks made but not yet stored, at most: bounds the memory they hold (a few MiB), and
    /// is deep enough that a commit (every 64 blocks) rarely stops the making of the next ones.
    private static let depth = 32

    init(store: @escaping (BlockIndexer.PreparedBlock) throws -> Void) {
        self.store = store
        let thread = Thread { [self] in run() }
        thread.name = "pode-index-store"
        thread.start()
    }

    /// Hands a block over, waiting while `depth` blocks are waiting already; throws what the
    /// thread failed with, if it did (nothing more is stored then).
    func put(_ block: BlockIndexer.PreparedBlock) throws {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= Self.depth && failure == nil && running { condition.wait() }
        if let failure { throw failure }
        queue.append(block)
        condition.broadcast()
    }

    /// Waits until every block handed over is stored and the thread has ended; throws what it
    /// failed with, if it did.
    func finish() throws {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        condition.broadcast()
        while running { condition.wait() }
        if let failure { throw failure }
    }

    /// Drops the blocks not stored yet and waits until the thread has ended (no-op after finish).
    func abandon() {
        condition.lock()
        defer { condition.unlock() }
        queue.removeAll()
        closed = true
        condition.broadcast()
        while running { condition.wait() }
    }

    private func run() {
        condition.lock()
        while true {
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty { break }
            let block = queue.removeFirst()
            condition.broadcast()
            condition.unlock()
            do { try store(block) } catch {
                condition.lock()
                failure = error
                queue.removeAll()
                break
            }
            condition.lock()
        }
        running = false
        condition.broadcast()
        condition.unlock()
    }
}
