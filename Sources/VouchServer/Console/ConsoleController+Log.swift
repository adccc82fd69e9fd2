import Foundation
import HTTPTypes
import Hummingbird
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// The transparency log page (checkpoints over time, witnesses, an entry with its inclusion proof
/// that the page's script verifies in the browser) and the events page (a live feed with filters,
/// webhook endpoints and their deliveries, with redelivery).
extension ConsoleController {
    @Sendable func transparencyLog(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let log = console.log
        let published = log.published
        let checkpoints = try await store.read { try await $0.log.checkpoints(limit: 48) }
        let pending = try await store.read { try await $0.log.pendingCheckpoint() }
        let latest = published.map { Self.cosignatureTimes(in: $0.note) } ?? [:]
        // Each witness's newest cosignature among the recent checkpoints (it may have missed the latest).
        var cosigned = latest
        for checkpoint in checkpoints {
            for (witness, time) in Self.cosignatureTimes(in: checkpoint.note) where cosigned[witness] == nil { cosigned[witness] = time }
        }
        let now = console.clock.seconds
        var values: [String: Any] = [
            "size": published?.size ?? 0, "root": published.map { Hex.encode($0.root.bytes) } ?? "",
            "note": published?.note ?? "", "verifierKey": log.signer.verifierKey, "server": console.publicURL,
            "quorum": log.configuration.quorum,
            "witnesses": log.configuration.witnesses.map { witness -> [String: Any] in
                let time = cosigned[witness.name]
                return [
                    "name": witness.name, "signed": time != nil, "latest": latest[witness.name] != nil, "when": time.map { ConsoleFormat.time($0) } ?? "",
                    "ago": time.map { ConsoleFormat.ago($0, now: now) } ?? "",
                ]
            },
            "hasWitnesses": !log.configuration.witnesses.isEmpty,
            "checkpoints": checkpoints.map { ["size": $0.size, "root": String(Hex.encode($0.root.bytes).prefix(16)), "when": ConsoleFormat.time($0.publishedAt)] },
            "growth": ConsoleChart(
                title: "Log size at each of the last checkpoints", category: "published",
                bars: checkpoints.reversed().map { .init(label: ConsoleFormat.time($0.publishedAt).dropFirst(11).prefix(8).description, value: Int($0.size)) },
                unit: "entries", labelEvery: max(1, checkpoints.count / 6)
            ).html,
        ]
        if let pending {
            values["pending"] = ["size": pending.size, "since": ConsoleFormat.time(pending.createdAt)]
        }
        if let text = request.uri.queryParameters["entry"], !text.isEmpty {
            guard let published else { throw ServiceError.conflict("no checkpoint is published yet; an entry can be proved once one is") }
            guard text.utf8.count <= 19, let index = UInt64(text), index < published.size else {
                throw ServiceError.invalidRequest("entry must be an index below the published size, \(published.size)")
            }
            guard let (entry, proof) = try await log.inclusion(index: index, size: published.size) else {
                throw ServiceError.notFound("entry \(index) is not in the log")
            }
            let event = try await store.read { try await $0.events.numbered([Int(index) + 1]) }.first
            values["entry"] = [
                "index": index, "size": published.size, "entryBase64": Data(entry).base64EncodedString(),
                "proof": proof.hashes.map { Data($0.bytes).base64EncodedString() }.joined(separator: " "), "rootBase64": Data(published.root.bytes).base64EncodedString(),
                "hashes": proof.hashes.count, "kind": event?.kind ?? "", "subject": event?.subject ?? "", "actor": event?.actor ?? "",
                "when": event.map { ConsoleFormat.time($0.at) } ?? "", "data": event?.dataText ?? "",
            ] as [String: Any]
            values["entryIndex"] = index
        }
        return page("log", values, "Transparency log", .log, request, context, live: "all")
    }

    /// When each witness cosigned the checkpoint, from its cosignature line (C2SP tlog-cosignature:
    /// a 4-byte key hash, an 8-byte big-endian timestamp, then the signature).
    static func cosignatureTimes(in note: String) -> [String: Int] {
        var times: [String: Int] = [:]
        for line in note.split(separator: "\n") where line.hasPrefix("— ") {
            let parts = line.dropFirst(2).split(separator: " ")
            guard parts.count == 2, let bytes = Data(base64Encoded: String(parts[1])).map(Array.init), bytes.count == 4 + 8 + 64 else { continue }
            let seconds = bytes[4..<12].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard seconds < UInt64(Int32.max) * 4 else { continue }
            times[String(parts[0])] = Int(seconds)
        }
        return times
    }

    @Sendable func events(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var kind: String?
        var prefix: String?
        let kindText = query["kind"].map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        if !kindText.isEmpty {
            guard EventKind.isPattern(kindText) else {
                throw ServiceError.invalidRequest("kind \(kindText.prefix(64)) is not an event kind (lower-case letters, dots and dashes) or a prefix such as device.*")
            }
            if kindText.hasSuffix("*") { prefix = String(kindText.dropLast()) } else { kind = kindText }
        }
        let subjectText = query["subject"].map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        guard subjectText.utf8.count <= 256 else { throw ServiceError.invalidRequest("subject is at most 256 characters") }
        let subject = subjectText.isEmpty ? nil : subjectText
        let (exact, start) = (kind, prefix)
        let events = try await store.read { try await $0.events.latest(limit: 100, kind: exact, kindPrefix: start, subject: subject) }
        let endpoints = try await console.webhooks.list()
        var values: [String: Any] = [
            "kind": kindText, "subject": subjectText,
            "events": events.map { event -> [String: Any] in
                ["seq": event.seq, "entry": event.seq - 1, "kind": event.kind, "subject": event.subject, "actor": event.actor,
                 "when": ConsoleFormat.time(event.at), "data": event.dataText, "entryHref": "/console/log?entry=\(event.seq - 1)",
                 "subjectHref": event.kind.hasPrefix("device.") || event.kind.hasPrefix("monitor.") ? "/console/devices/\(Self.path(event.subject))" : ""]
            },
            "none": events.isEmpty,
            "webhooks": endpoints.map { endpoint -> [String: Any] in
                ["id": endpoint.id, "url": endpoint.url, "description": endpoint.description, "enabled": endpoint.enabled,
                 "kinds": endpoint.kinds.joined(separator: ", "), "href": "/console/events?webhook=\(Self.query(endpoint.id))"]
            },
            "hasWebhooks": !endpoints.isEmpty,
        ]
        if let id = query["webhook"].map(String.init), !id.isEmpty {
            let endpoint = try await console.webhooks.endpoint(id)
            let deliveries = try await console.webhooks.deliveries(id, before: nil, limit: 50)
            values["deliveries"] = [
                "id": endpoint.id, "url": endpoint.url,
                "rows": deliveries.map { delivery -> [String: Any] in
                    ["seq": delivery.seq, "type": delivery.type, "state": delivery.state, "attempts": delivery.attempts,
                     "last": delivery.attemptLog.last.map { "\($0.status.map(String.init) ?? "no answer") \($0.error ?? "")" } ?? "",
                     "action": "/console/webhooks/\(Self.path(endpoint.id))/deliveries/\(delivery.seq)/redeliver"]
                },
                "none": deliveries.isEmpty,
            ] as [String: Any]
        }
        return page("events", values, "Events", .events, request, context, live: "all")
    }

    @Sendable func redeliver(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try context.apiKey.require(.admin)
        _ = try await checkedForm(request, context)
        let id = try context.parameters.require("id")
        let text = try context.parameters.require("seq")
        guard text.utf8.count <= 15, let seq = Int(text), seq >= 1 else { throw ServiceError.invalidRequest("a delivery is named by its event's sequence number") }
        try await console.webhooks.redeliver(id, seq: seq, actor: context.actor)
        return Self.redirect("/console/events?webhook=\(Self.query(id))")
    }
}
