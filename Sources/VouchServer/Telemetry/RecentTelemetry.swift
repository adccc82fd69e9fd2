import Foundation
import Synchronization
import VouchAPI
import VouchKit

/// The last few accepted messages per device, in memory, for the console (`--telemetry-keep N`;
/// none by default: payloads are the device owner's data, not the authority's).
final class RecentTelemetry: Sendable {
    typealias Message = TelemetryMessage

    private let messages = Mutex<[String: [Message]]>([:])
    /// The most devices whose messages are kept (monitoring's limit); past it, a tenth of them go.
    let deviceLimit: Int

    init(deviceLimit: Int) {
        self.deviceLimit = max(10, deviceLimit)
    }

    func keep(_ envelope: TelemetryEnvelope, device: String, limit: Int) {
        let message = Message(
            sequence: envelope.sequence, time: RFC3339.format(envelope.time), topic: envelope.topic, payload: envelope.payload.base64EncodedString())
        messages.withLock { messages in
            if messages[device] == nil, messages.count >= deviceLimit {
                for key in Array(messages.keys.prefix(deviceLimit / 10)) { messages.removeValue(forKey: key) }
            }
            var list = messages[device, default: []]
            list.append(message)
            if list.count > limit { list.removeFirst(list.count - limit) }
            messages[device] = list
        }
    }

    func forget(_ device: String) {
        _ = messages.withLock { $0.removeValue(forKey: device) }
    }

    func recent(_ device: String) -> [Message] {
        messages.withLock { $0[device] ?? [] }
    }
}
