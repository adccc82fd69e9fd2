import Foundation
import Synchronization
import VouchCore
import VouchKit

/// What the server observes of each device, in memory: counts per metric over the last minute,
/// 5 minutes and hour, and the source addresses it has come from. Telemetry, authentication and
/// authorization feed it; the trust score and the detectors read it. Devices are spread over
/// shards, each behind its own lock, so that updates from several connections rarely wait.
final class Monitor: Sendable {
    struct DeviceState: Sendable {
        var windows: MetricWindows
        /// Source addresses seen, with the minute each was last seen; at most `addressLimit`.
        var addresses: [IPAddress: Int] = [:]
    }

    static let shardCount = 16
    /// Addresses remembered per device; the least recently seen is forgotten past it.
    static let addressLimit = 32

    /// A lock and the devices behind it (a class, since a `Mutex` cannot sit in an array).
    private final class Shard: Sendable {
        let states = Mutex<[String: DeviceState]>([:])
    }

    private let shards: [Shard]

    init() {
        shards = (0..<Self.shardCount).map { _ in Shard() }
    }

    private func shard(_ device: String) -> Shard {
        var hasher = Hasher()
        hasher.combine(device)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(Self.shardCount))]
    }

    static func minute(_ date: Date) -> Int { Int(date.timeIntervalSince1970 / 60) }

    /// Applies `body` to the device's state at `date`, under its shard's lock.
    func update<T>(_ device: String, at date: Date, _ body: (inout DeviceState) -> T) -> T {
        let minute = Self.minute(date)
        return shard(device).states.withLock { states in
            if states[device] == nil { states[device] = DeviceState(windows: MetricWindows(minute: minute)) }
            states[device]!.windows.advance(to: minute)
            return body(&states[device]!)
        }
    }

    /// Counts `amount` of `metric` for `device`.
    func count(_ metric: DeviceMetric, _ amount: UInt32 = 1, device: String, at date: Date) {
        let minute = Self.minute(date)
        update(device, at: date) { $0.windows.add(metric, amount, minute: minute) }
    }

    /// Records a connection from `address`: counts it, and counts the address as new when the
    /// device has not come from it before. Returns whether it was new.
    @discardableResult
    func connected(_ device: String, from address: IPAddress?, at date: Date) -> Bool {
        let minute = Self.minute(date)
        return update(device, at: date) { state in
            state.windows.add(.connections, minute: minute)
            return Self.see(address, in: &state, minute: minute)
        }
    }

    static func see(_ address: IPAddress?, in state: inout DeviceState, minute: Int) -> Bool {
        guard let address else { return false }
        let isNew = state.addresses[address] == nil
        if isNew {
            if state.addresses.count >= addressLimit, let oldest = state.addresses.min(by: { $0.value < $1.value })?.key {
                state.addresses.removeValue(forKey: oldest)
            }
            // The first address of a device is where it enrolled or first spoke from, not news.
            if !state.addresses.isEmpty { state.windows.add(.newSourceAddresses, minute: minute) }
        }
        state.addresses[address] = minute
        return isNew && state.addresses.count > 1
    }

    /// The device's windows and addresses as of `date`, if it has been seen.
    func state(of device: String, at date: Date) -> DeviceState? {
        let minute = Self.minute(date)
        return shard(device).states.withLock { states in
            guard var state = states[device] else { return nil }
            state.windows.advance(to: minute)
            return state
        }
    }
}

extension Authority {
    /// Counts a refused authentication against the device the proof names, if it is one of ours
    /// (the proof's signature did not hold, so the name is only a claim: nothing else is done
    /// with it, and unknown names are not remembered).
    func noteFailedAuthentication(proof: String) async {
        guard let jws = try? CompactJWS(parsing: proof), let claimed = try? JSONValue(parsing: jws.payload)["deviceId"]?.stringValue,
            claimed.utf8.count <= 128, (try? await directoryEntry(claimed)) ?? nil != nil
        else { return }
        monitor.count(.authFailures, device: claimed, at: now)
    }
}
