import Foundation
import Synchronization
import VouchAPI
import VouchKit

// Enrollment load for profiling: the same server, client and devices as the
// "enrollment over HTTP" benchmark (ServerFixture.swift is shared), run once with figures the
// benchmark does not give: mean latency of the nonce and the enrollment requests, and the CPU time
// the process spent per enrollment, which moves far less than throughput on a shared machine.
//
//     swift build -c release --product LoadProbe
//     ENROLLMENTS=6000 CONNECTIONS=16 .build/release/LoadProbe
//     PAUSE=2 .build/release/LoadProbe &   # prints its pid, waits, then runs: perf record -g -p PID
let environment = ProcessInfo.processInfo.environment
let total = Int(environment["ENROLLMENTS"] ?? "") ?? 4000
let connectionCount = Int(environment["CONNECTIONS"] ?? "") ?? 16
let warmup = 500

let fixture = try await ServerFixture(devices: total + warmup + 100, connections: connectionCount)
let nonceTime = Mutex<Duration>(.zero)
let enrollTime = Mutex<Duration>(.zero)
let clock = ContinuousClock()

/// Enrolls `count` devices spread over the connections; with `timed`, adds each request's latency.
func run(_ count: Int, timed: Bool) async throws -> Duration {
    let start = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for connection in fixture.connections {
            group.addTask {
                for _ in 0..<(count / fixture.connections.count) {
                    let device = fixture.takeDevice()
                    let t0 = clock.now
                    let nonce = try await connection.enrollmentNonce().nonce
                    let t1 = clock.now
                    let request = try await device.request(nonce: nonce, group: fixture.group, claimToken: fixture.claimToken)
                    let t2 = clock.now
                    let answer = try await connection.exchange("POST", "/v1/enrollments", body: .json(request))
                    let t3 = clock.now
                    require(answer.status == 201, "the enrollment was refused: \(answer.status) \(answer.text)")
                    if timed {
                        nonceTime.withLock { $0 += t1 - t0 }
                        enrollTime.withLock { $0 += t3 - t2 }
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    return clock.now - start
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

_ = try await run(warmup, timed: false)
if let pause = environment["PAUSE"].flatMap(UInt32.init) {
    FileHandle.standardError.write(Data("ready \(getpid())\n".utf8))
    sleep(pause)
}
let cpuBefore = cpuSeconds()
let elapsed = seconds(try await run(total, timed: true))
let cpu = cpuSeconds() - cpuBefore
let enrolled = Double(total / connectionCount * connectionCount)
print(String(
    format: "%.0f enrollments over %d connections: %.0f/s; mean latency nonce %.2f ms, enrollment %.2f ms; CPU %.0f µs per enrollment (client and server)",
    enrolled, connectionCount, enrolled / elapsed, seconds(nonceTime.withLock { $0 }) * 1000 / enrolled,
    seconds(enrollTime.withLock { $0 }) * 1000 / enrolled, cpu * 1e6 / enrolled))
await fixture.stop()
