import Benchmark

/// The ratio of raw Ed25519 verify time to the benchmark's time per operation, measured next to
/// each iteration, times 1,000 (the benchmark package records whole numbers).
let pairedRatioMetric = BenchmarkMetric.custom("Ratio to Ed25519 verify x1000", polarity: .prefersLarger, useScalingFactor: false)

/// Registers a benchmark whose every iteration is bracketed by raw Ed25519 verifies.
///
/// The benchmark package runs one benchmark after another, and on a shared virtual machine the
/// speed of the same code drifts by half or more from one second to the next, so a ratio between
/// two benchmarks run a minute apart says as much about the machine as about the code. Each
/// iteration here therefore times ``RawVerify`` just before and just after the measured batch and
/// records their ratio as ``pairedRatioMetric``. The bracketing verifies are outside the measured
/// region: wall clock, throughput and malloc counts are those of the batch alone.
///
/// - Parameters:
///   - operationsPerIteration: The batch size; `body` runs `benchmark.scaledIterations` operations.
///   - maxIterations: The most iterations measured (at most 5 seconds' worth run either way).
///   - setup: Makes the state `body` works on, once, before warm-up.
///   - body: Runs one batch.
func pairedBenchmark<State>(
    _ name: String, operationsPerIteration: BenchmarkScalingFactor = .kilo, maxIterations: Int = 1_000,
    setup: @escaping () async throws -> State,
    body: @escaping (_ benchmark: Benchmark, _ state: State) async throws -> Void
) {
    let configuration = BenchmarkSettings.configuration(
        operationsPerIteration: operationsPerIteration, maxIterations: maxIterations)
    let operations = Double(operationsPerIteration.rawValue)
    Benchmark(name, configuration: configuration) { (benchmark: Benchmark, state: (state: State, raw: RawVerify)) async throws in
        let before = state.raw.nanosecondsPerVerify()
        let clock = ContinuousClock()
        benchmark.startMeasurement()
        let start = clock.now
        try await body(benchmark, state.state)
        let elapsed = clock.now - start
        benchmark.stopMeasurement()
        let after = state.raw.nanosecondsPerVerify()
        let ratio = (before + after) / 2 / (elapsed.nanoseconds / operations)
        benchmark.measurement(pairedRatioMetric, Int((ratio * 1_000).rounded()))
    } setup: {
        (state: try await setup(), raw: try await RawVerify.make())
    }
}
