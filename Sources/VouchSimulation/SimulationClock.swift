import Foundation
import Synchronization

/// The time a simulated fleet runs on.
public protocol SimulationClock: Sendable {
    var now: Date { get }
    /// Returns at `date`, or at once if it has passed.
    func sleep(until date: Date) async throws
}

/// The system clock: a simulation against a server in real time.
public struct WallClock: SimulationClock {
    public init() {}

    public var now: Date { Date() }

    public func sleep(until date: Date) async throws {
        let wait = date.timeIntervalSinceNow
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
    }
}

/// A clock that moves only when the simulation sleeps: a server built on it (see
/// `ServerConfiguration.clock`) lives through minutes of simulated time in seconds, and every
/// answer that depends on time is the same from run to run.
public final class VirtualClock: SimulationClock {
    private let time: Mutex<Date>

    /// Starts at `start`, by default the current whole second.
    public init(start: Date = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))) {
        time = Mutex(start)
    }

    public var now: Date { time.withLock { $0 } }

    public func sleep(until date: Date) async throws {
        time.withLock { $0 = max($0, date) }
        await Task.yield()
    }

    /// Moves the clock on by `seconds`.
    public func advance(by seconds: TimeInterval) {
        time.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
