import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import VouchCore
import VouchStore

/// Closes a device's RabbitMQ connections through the management API
/// (`DELETE /api/connections/username/{id}`) as soon as an event takes rights away from it: revoked,
/// suspended, quarantined, decommissioned, or its key rotated (RabbitMQ does not say which
/// certificate a connection used, so the old one's connection goes). RabbitMQ caches its topic
/// answers per connection; closing it is what makes the new state count. Follows the events from
/// the newest at start; a close that fails is tried again twice, then logged.
struct RabbitMQCloser: Service {
    let store: Store
    let settings: RabbitMQSettings
    let management: String
    let logger: Logger

    static let kinds: Set<String> = [
        EventKind.deviceRevoked, .deviceSuspended, .deviceQuarantined, .deviceDecommissioned, .deviceRotated,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    func run() async throws {
        let client = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(10))))
        let start = try await store.read { try await $0.counters.current(.events) }
        let commits = store.database.eventsCommitted
        await cancelWhenGracefulShutdown {
            var after = start
            while !Task.isCancelled {
                let beat = commits.beat
                do {
                    let position = after
                    let events = try await store.read { try await $0.events.after(position, limit: 500) }
                    for event in events where Self.kinds.contains(event.kind) {
                        await close(device: event.subject, because: event.kind, client: client)
                    }
                    after = events.last?.seq ?? after
                    if events.count == 500 { continue }
                } catch {
                    logger.error("RabbitMQ: reading events failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                await commits.wait(after: beat, timeout: .seconds(60))
            }
        }
        try? await client.shutdown()
    }

    /// Closes every connection of `device`; says in the log what came of it.
    func close(device: String, because kind: String, client: HTTPClient) async {
        let url = management.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/api/connections/username/"
            + (device.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? device)
        var request = HTTPClientRequest(url: url)
        request.method = .DELETE
        let credentials = Data("\(settings.managementUser):\(settings.managementPassword)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.headers.add(name: "X-Reason", value: "Vouch: \(kind)")
        var last = ""
        for attempt in 0..<3 {
            if attempt > 0 { try? await Task.sleep(for: .seconds(attempt)) }
            do {
                let response = try await client.execute(request, deadline: .now() + .seconds(10))
                let status = Int(response.status.code)
                // 404: no connection of that user (nothing to close).
                if (200..<300).contains(status) || status == 404 {
                    logger.info("RabbitMQ: closed the device's connections", metadata: ["device.id": "\(device)", "event.kind": "\(kind)"])
                    return
                }
                last = "HTTP \(status)"
                if (400..<500).contains(status) { break }
            } catch {
                last = String(describing: error).prefix(200).description
            }
        }
        logger.error(
            "RabbitMQ: could not close the device's connections",
            metadata: ["device.id": "\(device)", "event.kind": "\(kind)", "error": "\(last)", "rabbitmq.management": "\(management)"])
    }
}
