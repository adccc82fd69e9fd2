import Foundation
import SwiftASN1
import VouchAPI
import VouchCore
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
    /// The machine's key (generated here, never sent) and what it signs.
    private let agent = DeviceAgent()
    /// Messages per minute this machine sends normally.
    private let rate: Double
    private var random: SeededGenerator
    private(set) var id = ""
    private var token: String?
    private var tokenExpiry = Date.distantPast
    /// Readings taken so far (each names its number).
    private var readings = 0
    private var lastAccepted: String?
    private var swapped = false
    /// The way to the server from the usual address, and from the new one a moved machine uses.
    private let home: SimulationLink
    private let away: SimulationLink
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
        random = SeededGenerator(seed: context.plan.seed &* 1_000_003 &+ UInt64(index))
        home = SimulationLink(host: context.host, port: context.port)
        away = SimulationLink(host: context.host, port: context.port, from: context.plan.anomalyAddress)
    }

    func setVictim(_ id: String) { victim = id }

    /// A client from the usual address or the new one, anonymous or as this machine: every request
    /// with the machine's credential carries a DPoP proof by its key, signed at the simulation's time.
    private func client(moved: Bool = false, asDevice: Bool = true) -> VouchClient {
        var client = VouchClient(transport: moved ? away : home, credential: asDevice ? .device(key: agent.key, accessToken: token) : .anonymous)
        client.headers = [("Prefer", "return=minimal")]
        let clock = context.clock
        client.now = { clock.now }
        return client
    }

    /// Sends a request made by `body`, made again and sent again while the server's rate limit
    /// answers 429 (each attempt needs a fresh nonce).
    private func sendLimited(
        _ method: String, _ path: String, moved: Bool = false, asDevice: Bool = true, body: () async throws -> VouchClient.Body
    ) async throws -> VouchResponse {
        for _ in 0..<30 {
            let answer = try await client(moved: moved, asDevice: asDevice).exchange(method, path, body: try await body())
            guard answer.status == 429 else { return answer }
            // Retry-After is delta-seconds (RFC 9110 §10.2.3): a whole number, waited at most 30 s.
            let wait = answer.headers["retry-after"].flatMap { Int($0) }.map { min(max($0, 0), 30) } ?? 1
            try await Task.sleep(for: .seconds(wait))
        }
        throw SimulationError("the server's rate limit refused \(path) 30 times; start it with a higher --rate-limit for a simulated fleet")
    }

    /// Enrolls with the group's claim token, reporting the known-good firmware.
    func enroll() async throws {
        let answer = try await sendLimited("POST", "/v1/enrollments", asDevice: false) {
            let nonce = try await self.client(asDevice: false).enrollmentNonce().nonce
            return .json(try await agent.enrollmentRequest(
                nonce: nonce, group: context.group, claimToken: context.claimToken, attributes: ["model": context.plan.model, "serial": "sim-\(index)"],
                firmware: context.goodFirmware, at: context.clock.now))
        }
        guard answer.status == 201 else { throw SimulationError("enrolling device \(index) failed: \(VouchClientError.refused(answer))") }
        id = try answer.decode(EnrollmentBundle.self).deviceId
    }

    /// Gets an access token; when the server asks for a step-up, sends a fresh measurement of the
    /// firmware the machine runs, as a real device would.
    private func authenticate(moved: Bool) async throws {
        var steppingUp = false
        token = nil
        for _ in 0..<2 {
            let answer = try await sendLimited("POST", "/v1/auth/token", moved: moved) {
                let nonce = try await self.challenge(moved: moved)
                let proof = try await agent.deviceProof(nonce: nonce, deviceId: id)
                // Asked to step up: the measurement answers this request's nonce.
                let measurement = steppingUp ? try await self.measurement(at: context.clock.now, answering: nonce) : nil
                return .json(TokenRequest(nonce: nonce, proof: proof, measurement: measurement))
            }
            if answer.status == 403, answer.problem?.stepUp != nil, !steppingUp {
                steppingUp = true
                tally.steppedUp += 1
                continue
            }
            guard answer.status == 200 else { throw SimulationError("device \(id) got no token: \(VouchClientError.refused(answer))") }
            let granted = try answer.decode(TokenResponse.self)
            token = granted.access_token
            tokenExpiry = context.clock.now.addingTimeInterval(Double(granted.expires_in))
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
                _ = try await client().exchange("POST", "/v1/devices/self/attestation", body: .json(MeasurementBody(measurement: report)))
            }
            var count = random.poisson(rate * context.plan.interval / 60)
            if misbehaving, anomaly == .burst { count = random.poisson(20 * rate * context.plan.interval / 60) }
            var envelopes: [String] = []
            var accepted: String?
            for offset in 0..<count {
                let reading = "{\"t\":\(String(format: "%.2f", Double.random(in: 15...30, using: &random))),\"h\":\(Int.random(in: 30...70, using: &random)),\"n\":\(readings + 1)}"
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
            let batch = VouchClient.Body.json(TelemetryUpload(envelopes: envelopes))
            var answer = try await client(moved: moved).exchange("POST", "/v1/telemetry", body: batch)
            if answer.status == 401 {
                try await authenticate(moved: moved)
                answer = try await client(moved: moved).exchange("POST", "/v1/telemetry", body: batch)
            } else if answer.status == 403, answer.problem?.stepUp != nil {
                // Asked to step up: the batch was refused before any envelope was looked at; the
                // machine attests the firmware it runs, as a real device would, and sends it again.
                let nonce = try await challenge(moved: moved)
                let report = try await measurement(at: now, answering: nonce)
                let attested = try await client(moved: moved).exchange(
                    "POST", "/v1/devices/self/attestation", body: .json(MeasurementBody(measurement: report, nonce: nonce)))
                if attested.isSuccess, (try? attested.decode(FirmwareVerdict.self))?.status == .good { tally.steppedUp += 1 }
                answer = try await client(moved: moved).exchange("POST", "/v1/telemetry", body: batch)
            }
            tally.sent += envelopes.count
            guard answer.status == 200 else {
                tally.failures += 1
                tally.lastFailure = VouchClientError.refused(answer).reason
                return
            }
            let receipt = try answer.decode(TelemetryReceipt.self)
            for result in receipt.results {
                if let reason = result.reason {
                    tally.refused[reason, default: 0] += 1
                } else {
                    tally.accepted += 1
                }
            }
            if let accepted, receipt.results.first?.reason == nil { lastAccepted = accepted }
        } catch {
            tally.failures += 1
            tally.lastFailure = "\(error)"
            token = nil
        }
    }

    /// The next envelope in the machine's sequence, signed by its own key unless `signer` forges it.
    private func envelope(topic: String, payload: String, at time: Date, signer: SigningKey? = nil) async throws -> String {
        readings += 1
        guard let signer else { return try await agent.telemetry(topic: topic, payload: Data(payload.utf8), at: time) }
        return try await TelemetryEnvelope(device: agent.did, sequence: agent.nextSequence(), time: time, topic: topic, payload: Data(payload.utf8))
            .signed(with: signer)
    }

    /// A measurement of the firmware the machine runs (the unknown image once swapped), next in its
    /// sequence, answering the server's `nonce` when it asked.
    private func measurement(at time: Date, answering nonce: String? = nil) async throws -> String {
        try await agent.measurement(swapped ? context.swappedFirmware : context.goodFirmware, answering: nonce, at: time)
    }

    /// A fresh device nonce from `POST /v1/auth/challenge`.
    private func challenge(moved: Bool) async throws -> String {
        try await client(moved: moved, asDevice: false).challenge().nonce
    }

    func close() async {
        await home.close()
        await away.close()
    }
}
