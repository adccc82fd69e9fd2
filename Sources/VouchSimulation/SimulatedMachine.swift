import Foundation
import NIOHTTP1
import SwiftASN1
import VouchKit
import X509

/// What every machine of a simulation shares.
struct SimulationContext: Sendable {
    let plan: SimulationPlan
    let host: String
    let port: Int
    let clock: any SimulationClock
    let group: String
    let claimToken: String
    /// The known-good image every machine runs, and the one a swapped machine reports.
    let goodFirmware: FirmwareMeasurement
    let swappedFirmware: FirmwareMeasurement
    let anomalyStart: Date
}

/// One simulated device: its own key (generated here, never sent), its identity, its token, and
/// what it has sent and how the server answered.
actor SimulatedMachine {
    let index: Int
    let anomaly: Anomaly?
    private let context: SimulationContext
    private let key = SigningKey.generate(.ed25519)
    private let did: DID
    /// Messages per minute this machine sends normally.
    private let rate: Double
    private var random: SeededGenerator
    private(set) var id = ""
    private var token: String?
    private var tokenExpiry = Date.distantPast
    private var sequence: UInt64 = 0
    private var lastAccepted: String?
    private var swapped = false
    private var connection: SimulationConnection?
    private var movedConnection: SimulationConnection?
    /// Another machine's id, whose topic an out-of-policy machine publishes to.
    private var victim = ""
    private(set) var tally = Tally()

    /// What the machine sent and how it was answered.
    struct Tally: Sendable {
        var sent = 0
        var accepted = 0
        var refused: [String: Int] = [:]
        var steppedUp = 0
        var failures = 0
        var lastFailure: String?
    }

    init(index: Int, anomaly: Anomaly?, rate: Double, context: SimulationContext) {
        self.index = index
        self.anomaly = anomaly
        self.context = context
        self.rate = rate
        did = DID(key: key.publicKey)
        random = SeededGenerator(seed: context.plan.seed &* 1_000_003 &+ UInt64(index))
    }

    func setVictim(_ id: String) { victim = id }

    private func link(moved: Bool) async throws -> SimulationConnection {
        if moved {
            if let movedConnection { return movedConnection }
            let opened = try await SimulationConnection.open(host: context.host, port: context.port, from: context.plan.anomalyAddress)
            movedConnection = opened
            return opened
        }
        if let connection { return connection }
        let opened = try await SimulationConnection.open(host: context.host, port: context.port, from: nil)
        connection = opened
        return opened
    }

    /// Sends on the machine's connection. A connection found closed before the request went out
    /// is opened again and the request sent on it; a request that may have reached the server is
    /// never sent twice (a telemetry batch sent twice would be a replay).
    private func send(_ method: HTTPMethod, _ path: String, json: JSONValue, bearer: String? = nil, moved: Bool = false) async throws -> SimulationConnection.Answer {
        // The token request and every use of the token carry a DPoP proof by the machine's key.
        let dpop = bearer != nil || path == "/v1/auth/token" ? key : nil
        do {
            return try await link(moved: moved).send(method, path, json: json, bearer: bearer, dpop: dpop, now: context.clock.now)
        } catch is AnswerCollector.NotSent {
            if moved { movedConnection = nil } else { connection = nil }
            return try await link(moved: moved).send(method, path, json: json, bearer: bearer, dpop: dpop, now: context.clock.now)
        } catch {
            if moved { movedConnection = nil } else { connection = nil }
            throw error
        }
    }

    /// Waits and tries again while the server's rate limit answers 429.
    private func sendLimited(_ method: HTTPMethod, _ path: String, json: () async throws -> JSONValue, moved: Bool = false) async throws -> SimulationConnection.Answer {
        for _ in 0..<30 {
            let answer = try await send(method, path, json: try await json(), moved: moved)
            guard answer.status == 429 else { return answer }
            // Retry-After is delta-seconds (RFC 9110 §10.2.3): a whole number, waited at most 30 s.
            let wait = answer.headers.first(name: "Retry-After").flatMap { Int($0) }.map { min(max($0, 0), 30) } ?? 1
            try await Task.sleep(for: .seconds(wait))
        }
        throw SimulationError("the server's rate limit refused \(path) 30 times; start it with a higher --rate-limit for a simulated fleet")
    }

    /// Enrolls with the group's claim token, reporting the known-good firmware.
    func enroll() async throws {
        let answer = try await sendLimited(.POST, "/v1/enrollments") {
            let nonceAnswer = try await self.send(.POST, "/v1/enrollments/nonce", json: .object([:]))
            guard let nonce = nonceAnswer.json["nonce"]?.stringValue else {
                throw SimulationError("the server gave no enrollment nonce (HTTP \(nonceAnswer.status)): \(nonceAnswer.text.prefix(200))")
            }
            let proof = try await PossessionProof(nonce: nonce, group: context.group).sign(with: key)
            let csr = try key.certificateSigningRequest(commonName: did.description)
            let measurement = try await context.goodFirmware.answering(nonce).envelope(device: did, sequence: 0, time: context.clock.now).signed(with: key)
            return [
                "nonce": .string(nonce), "group": .string(context.group), "csr": .string(try csr.serializeAsPEM().pemString),
                "attributes": ["model": .string(context.plan.model), "serial": .string("sim-\(index)")],
                "attestation": ["claimToken": .string(context.claimToken)], "proof": .string(proof), "measurement": .string(measurement),
            ]
        }
        guard answer.status == 201, let id = answer.json["deviceId"]?.stringValue else {
            throw SimulationError("enrolling device \(index) failed (HTTP \(answer.status)): \(answer.json["detail"]?.stringValue ?? answer.text.prefix(200).description)")
        }
        self.id = id
    }

    /// Gets an access token; when the server asks for a step-up, sends a fresh measurement of the
    /// firmware the machine runs, as a real device would.
    private func authenticate(moved: Bool) async throws {
        var steppingUp = false
        for _ in 0..<2 {
            let answer = try await sendLimited(.POST, "/v1/auth/token", json: {
                let nonce = try await self.challenge(moved: moved)
                let proof = try await DeviceProof(nonce: nonce, deviceId: id, purpose: .authenticate).sign(with: key)
                var body: [String: JSONValue] = ["nonce": .string(nonce), "proof": .string(proof)]
                // Asked to step up: the measurement answers this request's nonce.
                if steppingUp { body["measurement"] = .string(try await self.measurement(at: context.clock.now, answering: nonce)) }
                return .object(body)
            }, moved: moved)
            if answer.status == 403, answer.json["stepUp"] != nil, !steppingUp {
                steppingUp = true
                tally.steppedUp += 1
                continue
            }
            guard answer.status == 200, let token = answer.json["access_token"]?.stringValue else {
                throw SimulationError("device \(id) got no token (HTTP \(answer.status)): \(answer.json["detail"]?.stringValue ?? "")")
            }
            self.token = token
            tokenExpiry = context.clock.now.addingTimeInterval(Double(answer.json["expires_in"]?.numberValue ?? 600))
            return
        }
    }

    /// One batch: the machine's messages for the last interval, and its misbehaviour once
    /// anomalies have started.
    func tick() async {
        let now = context.clock.now
        let misbehaving = anomaly != nil && now >= context.anomalyStart
        let moved = misbehaving && anomaly == .newAddress
        do {
            if token == nil || tokenExpiry.timeIntervalSince(now) < context.plan.interval + 5 {
                try await authenticate(moved: moved)
            }
            if misbehaving, anomaly == .firmwareSwap, !swapped {
                swapped = true
                let report = try await measurement(at: now)
                _ = try await send(.POST, "/v1/devices/self/attestation", json: ["measurement": .string(report)], bearer: token)
            }
            var count = random.poisson(rate * context.plan.interval / 60)
            if misbehaving, anomaly == .burst { count = random.poisson(20 * rate * context.plan.interval / 60) }
            var envelopes: [String] = []
            var accepted: String?
            for offset in 0..<count {
                let reading = "{\"t\":\(String(format: "%.2f", Double.random(in: 15...30, using: &random))),\"h\":\(Int.random(in: 30...70, using: &random)),\"n\":\(sequence + 1)}"
                let envelope = try await self.envelope(topic: "telemetry/\(id)/env", payload: reading, at: now.addingTimeInterval(Double(offset) * 0.001))
                envelopes.append(envelope)
                if offset == 0 { accepted = envelope }
            }
            if misbehaving {
                switch anomaly {
                case .replay:
                    if let lastAccepted { envelopes.append(lastAccepted) }
                case .forged:
                    envelopes.append(try await envelope(topic: "telemetry/\(id)/env", payload: "{\"t\":99}", at: now, signer: SigningKey.generate(.ed25519)))
                case .outOfPolicy:
                    envelopes.append(try await envelope(topic: "telemetry/\(victim)/env", payload: "{\"t\":1}", at: now))
                default:
                    break
                }
            }
            guard !envelopes.isEmpty else { return }
            let batch: JSONValue = ["envelopes": .array(envelopes.map(JSONValue.string))]
            var answer = try await send(.POST, "/v1/telemetry", json: batch, bearer: token, moved: moved)
            if answer.status == 401 {
                try await authenticate(moved: moved)
                answer = try await send(.POST, "/v1/telemetry", json: batch, bearer: token, moved: moved)
            } else if answer.status == 403, answer.json["stepUp"] != nil {
                // Asked to step up: the batch was refused before any envelope was looked at; the
                // machine attests the firmware it runs, as a real device would, and sends it again.
                let nonce = try await challenge(moved: moved)
                let report = try await measurement(at: now, answering: nonce)
                let attested = try await send(
                    .POST, "/v1/devices/self/attestation", json: ["nonce": .string(nonce), "measurement": .string(report)], bearer: token, moved: moved)
                if attested.json["status"] == "good" { tally.steppedUp += 1 }
                answer = try await send(.POST, "/v1/telemetry", json: batch, bearer: token, moved: moved)
            }
            tally.sent += envelopes.count
            guard answer.status == 200 else {
                tally.failures += 1
                tally.lastFailure = "HTTP \(answer.status): \(answer.json["detail"]?.stringValue ?? answer.text.prefix(200).description)"
                return
            }
            for result in answer.json["results"]?.arrayValue ?? [] {
                if let reason = result["reason"]?.stringValue {
                    tally.refused[reason, default: 0] += 1
                } else {
                    tally.accepted += 1
                }
            }
            if let accepted, answer.json["results"]?.arrayValue.first?["reason"] == nil { lastAccepted = accepted }
        } catch {
            tally.failures += 1
            tally.lastFailure = "\(error)"
            token = nil
        }
    }

    /// The next envelope in the machine's sequence, signed by its own key unless `signer` forges it.
    private func envelope(topic: String, payload: String, at time: Date, signer: SigningKey? = nil) async throws -> String {
        sequence += 1
        return try await TelemetryEnvelope(device: did, sequence: sequence, time: time, topic: topic, payload: Data(payload.utf8))
            .signed(with: signer ?? key)
    }

    /// A measurement of the firmware the machine runs (the unknown image once swapped), next in its
    /// sequence, answering the server's `nonce` when it asked.
    private func measurement(at time: Date, answering nonce: String? = nil) async throws -> String {
        sequence += 1
        let firmware = swapped ? context.swappedFirmware : context.goodFirmware
        return try await (nonce.map(firmware.answering) ?? firmware).envelope(device: did, sequence: sequence, time: time).signed(with: key)
    }

    /// A fresh device nonce from `POST /v1/auth/challenge`.
    private func challenge(moved: Bool) async throws -> String {
        let challenge = try await send(.POST, "/v1/auth/challenge", json: .object([:]), moved: moved)
        guard let nonce = challenge.json["nonce"]?.stringValue else {
            throw SimulationError("the server gave no challenge (HTTP \(challenge.status))")
        }
        return nonce
    }

    func close() async {
        await connection?.close()
        await movedConnection?.close()
    }
}
