import Foundation
import Hummingbird
import VouchAPI
import VouchCore
import VouchKit

/// `POST /v1/telemetry`: batches of signed envelopes from an authenticated device, answered one
/// by one; and the recent messages an operator may look at.
struct TelemetryController<Telemetry: TelemetryIngesting, Auth: DeviceAuthenticating, Keys: APIKeyManaging> {
    let telemetry: Telemetry
    let deviceAuth: Auth
    let apiKeys: Keys
    let metrics: ServerMetrics

    /// The largest batch body taken.
    static var bodyLimit: Int { 2 * 1024 * 1024 }

    /// `POST /v1/telemetry`.
    var endpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
            .add(middleware: DeviceAuthenticator(devices: deviceAuth))
            .add(middleware: RequireDevice())
        routes.post(use: ingest)
        return routes
    }

    /// `GET /v1/admin/devices/{id}/telemetry`.
    var adminEndpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
            .add(middleware: APIKeyAuthenticator(apiKeys: apiKeys))
            .add(middleware: RequireScope(.readOnly))
        routes.get("devices/{id}/telemetry", use: recent)
        return routes
    }

    @Sendable func ingest(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let device = try context.device
        let buffer = try await request.bodyBytes(
            limit: Self.bodyLimit, tooLarge: "a telemetry batch is at most \(Self.bodyLimit / 1024) KiB; send smaller batches")
        let envelopes = try Self.envelopes(Array(buffer.readableBytesView))
        let outcomes = try await telemetry.ingest(envelopes, from: device, source: context.sourceAddress)
        metrics.telemetry(outcomes)
        return Responses.json(bytes: Self.answer(outcomes))
    }

    @Sendable func recent(_ request: Request, context: VouchRequestContext) async throws -> Answer<TelemetryPage> {
        let id = try context.parameters.require("id")
        return Answer(TelemetryPage(keep: telemetry.keep, messages: try await telemetry.recentMessages(of: id)))
    }

    /// `{"envelopes": ["<vouch-telemetry+jwt>", …]}`, read with the one-pass reader.
    static func envelopes(_ bytes: [UInt8]) throws -> [String] {
        guard !bytes.isEmpty else { throw ServiceError.invalidRequest("the request needs a JSON body: {\"envelopes\": [\"<vouch-telemetry+jwt>\", …]}") }
        let envelopes: [String]?
        do {
            envelopes = try TelemetryBatch.envelopes(bytes)
        } catch let error as VouchKitError {
            throw ServiceError.invalidRequest("the body must be {\"envelopes\": [\"<vouch-telemetry+jwt>\", …]}: \(error.reason)")
        }
        guard let envelopes, !envelopes.isEmpty else { throw ServiceError.invalidRequest("envelopes is required: a list of at least one signed envelope") }
        return envelopes
    }

    /// `{"accepted": N, "rejected": M, "results": [{"index", "status", "reason"?, "detail"?}]}`.
    static func answer(_ outcomes: [TelemetryOutcome]) -> [UInt8] {
        var results: [JSONValue] = []
        results.reserveCapacity(outcomes.count)
        var accepted = 0
        for (index, outcome) in outcomes.enumerated() {
            if let refusal = outcome.refusal {
                results.append([
                    "index": .number(Double(index)), "status": "rejected", "reason": .string(refusal.rawValue), "detail": .string(outcome.detail ?? ""),
                ])
            } else {
                accepted += 1
                results.append(["index": .number(Double(index)), "status": "accepted"])
            }
        }
        return JSONValue.object([
            "accepted": .number(Double(accepted)), "rejected": .number(Double(outcomes.count - accepted)), "results": .array(results),
        ]).canonicalJSON
    }
}
