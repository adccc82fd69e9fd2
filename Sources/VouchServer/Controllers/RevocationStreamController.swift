import Foundation
import HTTPTypes
import Hummingbird
import VouchCore
import VouchKit
import VouchStore

/// `GET /v1/revocations/stream` (public, as the CRL and status lists are): revocations, holds and
/// releases as they are committed, as Server-Sent Events. Each frame is one revocation generation
/// (`id:` the generation): the certificates it changed (serial, revoked / hold / good, reason, the
/// device and its DID) and the status bits (purpose, status list, index, set or cleared, the
/// device). A client resumes with `Last-Event-ID` (or `?after=`) and gets every change after that
/// generation: generations commit in order (the transaction that takes one holds the counter until
/// it commits), and a row changed again later is sent with the later generation, as its state then.
/// Without either it starts at the newest generation.
struct RevocationStreamController: Sendable {
    let store: Store
    let limiter: RateLimiter
    let heartbeat: Duration
    let publicURL: String
    let statusListSize: Int
    let open = ServerSentEvents.OpenStreams()

    /// Generations read at a time.
    static var window: Int { 256 }

    var endpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
            .add(middleware: RateLimitMiddleware(limiter: limiter))
        routes.get("stream", use: stream)
        return routes
    }

    @Sendable func stream(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let newest = try await store.read { try await $0.counters.current(.revocations) }
        let start = try ServerSentEvents.start(request, newest: newest, what: "revocation generation")
        let store = self.store
        let publicURL = self.publicURL
        let size = statusListSize
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ServerSentEvents.response(
            open: open, pulse: store.database.eventsCommitted, heartbeat: heartbeat, start: start, greeting: "revocations after generation \(start)"
        ) { after in
            let (current, through, certificates, bits) = try await store.read { session in
                let current = try await session.counters.current(.revocations)
                let through = min(current, after + Self.window)
                guard through > after else { return (current, after, [CertificateRevocationChange](), [StatusBitFeedChange]()) }
                return (
                    current, through, try await session.revocationFeed.certificates(after: after, through: through),
                    try await session.revocationFeed.statusBits(after: after, through: through)
                )
            }
            let certificatesByGeneration = Dictionary(grouping: certificates, by: \.generation)
            let bitsByGeneration = Dictionary(grouping: bits, by: \.change.generation)
            var frames = ""
            for generation in Set(certificatesByGeneration.keys).union(bitsByGeneration.keys).sorted() {
                let frame = RevocationFrame(
                    generation: generation,
                    certificates: (certificatesByGeneration[generation] ?? []).map { change in
                        RevocationFrame.Certificate(
                            serial: change.serial, state: change.revokedAt == nil ? "good" : change.reason == .certificateHold ? "hold" : "revoked",
                            reason: change.revokedAt == nil ? nil : change.reason?.name, revokedAt: change.revokedAt, device: change.deviceID, did: change.did)
                    },
                    statusBits: (bitsByGeneration[generation] ?? []).map { bit in
                        RevocationFrame.StatusBit(
                            purpose: bit.change.purpose.rawValue,
                            statusListCredential: "\(publicURL)/v1/status-lists/\(bit.change.purpose.rawValue)-\(bit.change.index / size)",
                            statusListIndex: bit.change.index % size, set: bit.change.isSet, device: bit.deviceID, did: bit.did)
                    })
                frames += "id: \(generation)\nevent: revocation\ndata: " + String(decoding: try encoder.encode(frame), as: UTF8.self) + "\n\n"
            }
            return ServerSentEvents.Page(frames: frames, last: through, more: through < current)
        }
    }
}
