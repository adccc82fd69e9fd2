import Foundation
import Hummingbird
import VouchCore
import VouchKit
import VouchStore

/// `POST /v1/telemetry`: batches of signed envelopes from an authenticated device, answered one
/// by one; and the recent messages an operator may look at.
struct TelemetryController {
    let telemetry: TelemetryService
    let directory: DirectoryService
    let deviceAuth: DeviceAuthService
    let apiKeys: APIKeyMiddleware
    let devices: DeviceController

    /// The largest batch body taken.
    static let bodyLimit = 2 * 1024 * 1024

    func addRoutes(to router: Router<VouchRequestContext>) {
        router.post("/v1/telemetry") { request, context in
            let device = try await deviceAuth.authenticatedDevice(try await devices.credential(request, context))
            let buffer = try await request.bodyBytes(
                context: context, limit: Self.bodyLimit, tooLarge: "a telemetry batch is at most \(Self.bodyLimit / 1024) KiB; send smaller batches")
            let envelopes = try Self.envelopes(Array(buffer.readableBytesView))
            guard let entry = try await directory.entry(device.id) else {
                throw ServiceError.unauthenticated("device \(device.id) is not known here")
            }
            let outcomes = telemetry.ingest(envelopes, from: entry, source: context.sourceAddress)
            return Responses.json(bytes: Self.answer(outcomes))
        }
        router.group("/v1/admin").add(middleware: apiKeys).get("/devices/{id}/telemetry") { _, context in
            _ = try context.require(.readOnly)
            let id = try context.parameters.require("id")
            guard try await directory.entry(id) != nil else { throw ServiceError.notFound("no device with id \(id.prefix(64))") }
            return try Responses.json(TelemetryPage(keep: telemetry.keep, messages: telemetry.recentMessages(of: id)))
        }
    }

    /// `GET /v1/admin/devices/{id}/telemetry`.
    struct TelemetryPage: Codable, Sendable {
        /// How many messages per device the server keeps (`--telemetry-keep`).
        var keep: Int
        var messages: [RecentTelemetry.Message]
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
