import Benchmark
import Foundation
import Synchronization
import VouchAPI
import VouchCore
import VouchKit

/// The transparency log's figures, each beside a baseline from the same run (`log-ratios.sh` prints
/// them with the targets):
///
/// - append throughput: the server's sequencer on SQLite appending 100,000 events already committed
///   (entries hashed, nodes stored, checkpoint signed and published), from the server's start to the
///   checkpoint that covers them all; beside hashing the same entries into a frontier in memory;
/// - inclusion and consistency proofs over HTTP from a log of 1,000,000 entries; beside a `/healthz`
///   round trip on the same connection;
/// - the auditor (`LogAuditor`, what `vouch log verify` runs) re-hashing all 1,000,000 entries
///   fetched as C2SP tiles over HTTP; beside hashing them in memory.
let appendEvents = 100_000
let largeLog: UInt64 = 1_000_000

func benchmarks() {
    Benchmark(
        "log append in memory (baseline): 100k entries hashed into a frontier",
        configuration: .init(metrics: [.wallClock, .throughput], warmupIterations: 1, scalingFactor: .one, maxDuration: .seconds(20), maxIterations: 10)
    ) { benchmark in
        var frontier = MerkleFrontier()
        for seq in 2..<(2 + appendEvents) {
            frontier.append(leafHash: MerkleHash.leafHash(entry(seq)))
        }
        blackHole(frontier.root)
    }

    Benchmark(
        "log append on SQLite: 100k events sequenced, stored and checkpointed",
        configuration: .init(metrics: [.wallClock], warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(120), maxIterations: 3)
    ) { (benchmark: Benchmark, template: (directory: String, size: UInt64)) in
        let directory = try LogData.copy(template.directory)
        benchmark.startMeasurement()
        let server = try await LogServer(dataDirectory: directory, checkpointInterval: .milliseconds(1))
        try await server.waitForCheckpoint(template.size)
        benchmark.stopMeasurement()
        await server.stop()
        server.remove()
    } setup: {
        try await LogData.template(events: appendEvents)
    }

    Benchmark(
        "log round trip (baseline): GET /healthz on the 1M-entry server",
        configuration: .init(metrics: [.wallClock], warmupIterations: 50, scalingFactor: .one, maxDuration: .seconds(10), maxIterations: 5000)
    ) { (benchmark: Benchmark, server: LogServer) in
        blackHole(try await server.get("/healthz"))
    } setup: {
        try await LargeLog.shared()
    }

    Benchmark(
        "log inclusion proof over HTTP at 1M entries",
        configuration: .init(metrics: [.wallClock], warmupIterations: 50, scalingFactor: .one, maxDuration: .seconds(10), maxIterations: 5000)
    ) { (benchmark: Benchmark, server: LogServer) in
        let index = UInt64.random(in: 0..<largeLog)
        blackHole(try await server.get("/v1/log/proof/inclusion?index=\(index)&size=\(largeLog)"))
    } setup: {
        try await LargeLog.shared()
    }

    Benchmark(
        "log consistency proof over HTTP at 1M entries",
        configuration: .init(metrics: [.wallClock], warmupIterations: 50, scalingFactor: .one, maxDuration: .seconds(10), maxIterations: 5000)
    ) { (benchmark: Benchmark, server: LogServer) in
        let from = UInt64.random(in: 1..<largeLog)
        blackHole(try await server.get("/v1/log/proof/consistency?from=\(from)&to=\(largeLog)"))
    } setup: {
        try await LargeLog.shared()
    }

    Benchmark(
        "log auditor in memory (baseline): 1M entries hashed into a frontier",
        configuration: .init(metrics: [.wallClock], warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 1)
    ) { benchmark in
        var frontier = MerkleFrontier()
        for seq in 1...Int(largeLog) {
            frontier.append(leafHash: MerkleHash.leafHash(entry(seq)))
        }
        blackHole(frontier.root)
    }

    Benchmark(
        "log auditor over HTTP: 1M entries fetched as tiles, re-hashed, root checked",
        configuration: .init(metrics: [.wallClock], warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(120), maxIterations: 1)
    ) { (benchmark: Benchmark, server: LogServer) in
        let key = try await server.client.logKey().trimmingCharacters(in: .whitespacesAndNewlines)
        let auditor = LogAuditor(verifiers: [try NoteVerifier(verifierKey: key)])
        let outcome = try await auditor.audit(VouchLogSource(client: server.client), state: nil)
        guard case .success(let report) = outcome, report.entriesVerified == largeLog else { fatalError("the audit failed: \(outcome)") }
    } setup: {
        try await LargeLog.shared()
    }
}

/// An event entry like the server's `certificate.issued` ones (the bytes differ from the fixture's
/// rows only in the bootstrap event; what is measured is the hashing).
func entry(_ seq: Int) -> [UInt8] {
    let serial = String(repeating: String(seq, radix: 16), count: 40).prefix(40)
    return Array(#"{"actor":"device:dev_bench\#(seq)","at":\#(1_795_305_600 + seq),"data":{"notAfter":"2027-02-19T12:00:00Z","serial":"\#(serial)"},"kind":"certificate.issued","seq":\#(seq),"subject":"dev_bench\#(seq)"}"#.utf8)
}

/// The 1,000,000-entry log, built once per run (events written into SQLite, then sequenced by the
/// server as it starts) and shared by the proof and auditor benchmarks.
enum LargeLog {
    private static let server = Mutex<Task<LogServer, any Error>?>(nil)

    static func shared() async throws -> LogServer {
        let task = server.withLock { task in
            if let task { return task }
            let created = Task {
                let template = try await LogData.template(size: largeLog)
                require(template.size == largeLog, "the large log has \(template.size) entries, not \(largeLog)")
                let server = try await LogServer(dataDirectory: template.directory, checkpointInterval: .milliseconds(10))
                try await server.waitForCheckpoint(largeLog)
                return server
            }
            task = created
            return created
        }
        return try await task.value
    }
}
