import VouchTesting

/// Child processes in these tests are launched without Foundation's `Process.run()`, which can
/// crash a test process holding many descriptors (see `ChildProcess`).
typealias Process = ChildProcess
