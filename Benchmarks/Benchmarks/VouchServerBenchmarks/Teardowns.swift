import Benchmark
import Synchronization

/// What setups started, for teardowns (which receive no state) to stop.
let teardowns = Mutex<[@Sendable () async -> Void]>([])

/// Has `stop` run by the next teardown.
func onTeardown(_ stop: @escaping @Sendable () async -> Void) {
    teardowns.withLock { $0.append(stop) }
}

func running(_ fixture: ServerFixture) -> ServerFixture {
    onTeardown { await fixture.stop() }
    return fixture
}

/// Stops everything the setups started.
func stopServers() async {
    let stops = teardowns.withLock { stops in
        defer { stops = [] }
        return stops
    }
    for stop in stops { await stop() }
}
