import Foundation
import Synchronization

/// Remembers, per device, the highest sequence number accepted, in bounded memory.
///
/// A device is forgotten only once its newest message is older than the clock window, when any
/// replay of its messages is refused by the window check anyway. If `capacity` devices are all
/// recent, messages from further devices are refused (fail closed) rather than forgetting one.
public final class ReplayGuard: Sendable {
    private struct State {
        var sequence: UInt64
        var newest: Date
    }

    private let devices = Mutex<[String: State]>([:])
    /// How many devices are tracked at most.
    public let capacity: Int
    /// The clock window the verifier enforces.
    public let window: TimeInterval

    /// Creates a guard for `capacity` devices and a clock `window` in seconds.
    public init(capacity: Int = 1_000_000, window: TimeInterval = 300) {
        self.capacity = capacity
        self.window = window
    }

    /// Accepts `sequence` from `device` if it is higher than any accepted before, and records it.
    public func accept(device: String, sequence: UInt64, time: Date, now: Date) -> Result<Void, VerificationFailure> {
        devices.withLock { devices in
            if let state = devices[device] {
                guard sequence > state.sequence else {
                    return .failure(VerificationFailure(.replay, "sequence \(sequence) from \(device) is not above \(state.sequence): replayed or out of order"))
                }
                devices[device] = State(sequence: sequence, newest: max(state.newest, time))
                return .success(())
            }
            if devices.count >= capacity {
                let horizon = now.addingTimeInterval(-window)
                devices = devices.filter { $0.value.newest >= horizon }
                guard devices.count < capacity else {
                    return .failure(VerificationFailure(.replay, "replay guard is tracking \(capacity) active devices; refusing a new one"))
                }
            }
            devices[device] = State(sequence: sequence, newest: time)
            return .success(())
        }
    }

    /// The number of devices tracked.
    public var count: Int { devices.withLock { $0.count } }
}
