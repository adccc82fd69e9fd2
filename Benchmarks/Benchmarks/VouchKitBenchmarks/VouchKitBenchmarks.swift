import Benchmark

/// The benchmarks, registered for ordo-one/benchmark's generated runner.
///
/// Every figure is meant to be read as a ratio to raw Ed25519 verify from the same run, which
/// `ratios.sh` prints: both against the "Ed25519 raw verify (baseline)" benchmark and, steadier,
/// against the raw verifies that bracket each iteration (see ``pairedBenchmark(_:operationsPerIteration:maxIterations:setup:body:)``).
///
/// Every benchmark runs a batch of operations per iteration (1,000, or 1,000,000 for the
/// sub-microsecond ones), named in the tag `ops`. With one operation per iteration the async
/// benchmarks measured the harness as much as VouchKit: the harness starts each iteration as a new
/// task on whichever pool thread is free, and on a 2-core machine about half of the iterations took
/// up to twice as long as the others. A batch amortises that start over its operations.
func benchmarks() {
    registerHeadlineBenchmarks()
    registerCredentialBreakdown()
    registerPolicyBreakdown()
    registerTelemetryBreakdown()
    registerGatewayBenchmarks()
}

/// Settings shared by every benchmark.
enum BenchmarkSettings {
    /// Iterations run before measuring; they fill caches and VouchKit's key cache, as a running verifier's are.
    static let warmupIterations = 1

    /// Throughput, wall clock, malloc counts and the paired ratio, with `operationsPerIteration`
    /// operations in each iteration, for at most 5 seconds or `maxIterations` iterations.
    static func configuration(
        operationsPerIteration: BenchmarkScalingFactor = .kilo, maxIterations: Int = 1_000
    ) -> Benchmark.Configuration {
        Benchmark.Configuration(
            metrics: [.throughput, .wallClock, .mallocCountTotal, pairedRatioMetric],
            tags: ["ops": String(operationsPerIteration.rawValue)],
            warmupIterations: warmupIterations,
            scalingFactor: operationsPerIteration,
            maxDuration: .seconds(5),
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
