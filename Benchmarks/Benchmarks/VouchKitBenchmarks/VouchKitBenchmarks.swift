import Benchmark

/// The benchmarks, registered for ordo-one/benchmark's generated runner.
///
/// Every figure is meant to be read against "Ed25519 raw verify (baseline)" from the same run:
/// `ratios.sh` prints each benchmark's operations per second as a ratio to it. Benchmarks whose
/// single operation takes well under 10 µs run many operations per iteration; their name carries
/// the count as the tag `ops`, and every figure is per operation once divided by it.
func benchmarks() {
    registerHeadlineBenchmarks()
    registerCredentialBreakdown()
    registerTelemetryBreakdown()
}

/// Settings shared by every benchmark.
enum BenchmarkSettings {
    /// Iterations run before measuring; the first fills VouchKit's key cache, as a running verifier's is.
    static let warmupIterations = 20
    /// The most iterations measured; the telemetry feed is sized from it.
    static let maxIterations = 20_000

    /// Throughput, wall clock and malloc counts, with `operationsPerIteration` operations in each iteration.
    static func configuration(operationsPerIteration: BenchmarkScalingFactor = .one) -> Benchmark.Configuration {
        Benchmark.Configuration(
            metrics: [.throughput, .wallClock, .mallocCountTotal],
            tags: operationsPerIteration == .one ? [:] : ["ops": String(operationsPerIteration.rawValue)],
            warmupIterations: warmupIterations,
            scalingFactor: operationsPerIteration,
            maxDuration: .seconds(3),
            maxIterations: maxIterations
        )
    }
}

/// Stops the run when a benchmark's operation gives the wrong answer, so that no figure ever
/// measures a rejection where an acceptance was meant. One comparison per operation.
@inline(__always)
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
