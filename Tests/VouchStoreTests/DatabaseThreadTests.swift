import Foundation
import Logging
import SQLKit
import Synchronization
import Testing
import VouchCore
import VouchStore

/// SQLite statements run on the database's own threads, never on Swift's cooperative pool.
@Suite("SQLite off the cooperative pool")
struct DatabaseThreadTests {
    @Test func slowReadsHoldOnlyTheirOwnConnections() async throws {
        try await StoreEngine.sqlite.withStore { store in
            // As many slow reads as the pool has threads (at least two), each holding its thread
            // until the test lets it go: run in place, they would hold every cooperative thread and
            // nothing else could run. A watchdog lets them go after 60 s, so that a broken store
            // fails this test instead of hanging it.
            let slowCount = max(2, ProcessInfo.processInfo.activeProcessorCount)
            let finished = Finished()
            let gate = Gate()
            let (started, startedSignal) = AsyncStream.makeStream(of: Void.self)
            let slow = (0..<slowCount).map { _ in
                Task {
                    let count = try await store.database.read { sql in
                        startedSignal.yield()
                        // Blocks the thread the body runs on, as a long statement would.
                        while !gate.open.load(ordering: .acquiring) { usleep(1_000) }
                        return try await sql.raw("SELECT 7 AS n").first(decodingColumn: "n", as: Int.self)
                    }
                    finished.count.add(1, ordering: .relaxed)
                    return count
                }
            }
            Thread.detachNewThread {
                let deadline = Date().addingTimeInterval(60)
                while !gate.open.load(ordering: .acquiring) && Date() < deadline { usleep(10_000) }
                if !gate.open.load(ordering: .acquiring) {
                    gate.watchdogFired.store(true, ordering: .releasing)
                    gate.open.store(true, ordering: .releasing)
                }
            }
            var starts = 0
            for await _ in started {
                starts += 1
                if starts == slowCount { break }
            }
            // While they hold their threads: a read on another connection, a committed write, and
            // plain work on the pool.
            let version = try await store.read { try await $0.counters.current(.events) }
            #expect(version == 0)
            let key = try await store.transaction { try await $0.counters.next(.policies) }
            #expect(key == 1)
            let sum = await Task { (1...1000).reduce(0, +) }.value
            #expect(sum == 500_500)
            #expect(finished.count.load(ordering: .relaxed) == 0, "the slow reads should still be held")
            let waited = gate.watchdogFired.load(ordering: .acquiring)
            #expect(!waited, "the other work waited for the slow reads")
            gate.open.store(true, ordering: .releasing)
            for task in slow {
                #expect(try await task.value == 7)
            }
        }
    }

    /// After close, a read fails at once (its connection is closed) instead of waiting for a
    /// thread that has ended.
    @Test func aReadAfterCloseFailsAndDoesNotHang() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try await VouchDatabase.sqlite(path: directory + "/vouch.db", logger: Logger(label: "test"))
        await database.close()
        let outcome = await withTaskGroup(of: String.self) { group in
            group.addTask {
                do {
                    _ = try await database.read { try await $0.raw("SELECT 1 AS one").first(decodingColumn: "one", as: Int.self) }
                    return "answered"
                } catch {
                    return "failed: \(error)"
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(20))
                return "hung"
            }
            let first = await group.next() ?? "none"
            group.cancelAll()
            return first
        }
        #expect(outcome.hasPrefix("failed") && outcome.contains("closed"), "\(outcome)")
    }

    @Test func localCommitsCountWhatThisServerCommitted() async throws {
        try await StoreEngine.sqlite.withStore { store in
            let before = try #require(store.database.localCommits)
            _ = try await store.transaction { try await $0.counters.next(.revocations) }
            _ = try await store.read { try await $0.counters.current(.revocations) }
            #expect(store.database.localCommits == before + 1)
            await #expect(throws: (any Error).self) {
                try await store.transaction { session -> Int in
                    _ = try await session.counters.next(.revocations)
                    throw CancellationError()
                }
            }
            #expect(store.database.localCommits == before + 1, "a rolled-back transaction commits nothing")
        }
    }

    @Test func commitsAreCountedForTheCountersTheyAdvanced() async throws {
        try await StoreEngine.sqlite.withStore { store in
            let revocations = try #require(store.database.localCommits(advancing: .revocations))
            let events = try #require(store.database.localCommits(advancing: .events))
            _ = try await store.transaction { try await $0.counters.next(.revocations) }
            #expect(store.database.localCommits(advancing: .revocations) == revocations + 1)
            #expect(store.database.localCommits(advancing: .events) == events, "a counter not advanced is not counted")
            _ = try await store.write { try await $0.events.append([EventDraft(kind: .deviceEnrolled, subject: "dev_1", actor: "test")], at: 1) }
            #expect(store.database.localCommits(advancing: .events) == events + 1, "events advance their counter")
            #expect(store.database.localCommits(advancing: .revocations) == revocations + 1)
            await #expect(throws: CancellationError.self) {
                try await store.transaction { session -> Int in
                    _ = try await session.counters.next(.revocations)
                    throw CancellationError()
                }
            }
            #expect(store.database.localCommits(advancing: .revocations) == revocations + 1, "a rolled-back advance is not counted")
        }
    }
}

/// Holds the slow reads of `slowReadsHoldOnlyTheirOwnConnections` until it opens.
private final class Gate: Sendable {
    let open = Atomic<Bool>(false)
    let watchdogFired = Atomic<Bool>(false)
}

private final class Finished: Sendable {
    let count = Atomic<Int>(0)
}
