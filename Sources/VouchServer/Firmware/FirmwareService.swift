import Foundation
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// Firmware attestation: the registry of known-good measurements per model, and what devices
/// report running. A verdict other than good raises a signal in monitoring.
final class FirmwareService: Sendable {
    private let store: Store
    private let directory: DirectoryService
    private let monitoring: MonitoringService
    private let nonces: NonceService
    private let events: EventRecorder

    /// How far a measurement's time may be from the server's clock (as for telemetry).
    static let clockWindow: TimeInterval = TelemetryService.clockWindow

    private var clock: ServerClock { events.clock }

    init(store: Store, directory: DirectoryService, monitoring: MonitoringService, nonces: NonceService, events: EventRecorder) {
        self.store = store
        self.directory = directory
        self.monitoring = monitoring
        self.nonces = nonces
        self.events = events
    }

    /// Registers a known-good measurement for a model.
    func register(_ registration: FirmwareRegistration, actor: String) async throws -> FirmwareView {
        let measurement: FirmwareMeasurement
        do {
            measurement = try FirmwareMeasurement(sha256: registration.sha256, version: registration.version)
        } catch let error as VouchKitError {
            throw ServiceError.unprocessable(error.reason)
        }
        let model = registration.model
        guard !model.isEmpty, model.utf8.count <= 64, model.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw ServiceError.unprocessable("model must be 1–64 bytes (UTF-8) of printable text without spaces, as devices give it in their model attribute")
        }
        let stamp = clock.seconds
        let row = FirmwareRecord(digest: measurement.sha256, model: model, version: measurement.version, status: .good, createdAt: stamp, updatedAt: stamp)
        try await store.transaction { session in
            if let existing = try await session.firmware.find(digest: row.digest) {
                throw ServiceError.conflict(
                    existing.status == .revoked
                        ? "measurement \(row.digest) was revoked; a revoked image is never good again"
                        : "measurement \(row.digest) is already registered for \(existing.model) \(existing.version)")
            }
            try await session.firmware.insert(row)
            try await self.events.record(session, kind: .firmwareRegistered, subject: "firmware:\(row.digest)", actor: actor, data: [
                "sha256": .string(row.digest), "model": .string(model), "version": .string(row.version),
            ])
        }
        return FirmwareView(row)
    }

    /// Revokes a measurement: devices reporting it are running bad firmware from now on.
    func revoke(_ digest: String, actor: String) async throws -> (FirmwareView, devices: [String]) {
        let digest = digest.lowercased()
        let (row, devices) = try await store.transaction { session -> (FirmwareRecord, [String]) in
            guard var row = try await session.firmware.find(digest: digest) else { throw ServiceError.notFound("no registered measurement \(digest.prefix(64))") }
            guard row.status != .revoked else { throw ServiceError.conflict("measurement \(digest) is revoked already") }
            let stamp = self.clock.seconds
            let devices = try await session.firmware.revoke(digest: digest, at: stamp)
            row.status = .revoked
            row.updatedAt = stamp
            try await self.events.record(session, kind: .firmwareRevoked, subject: "firmware:\(digest)", actor: actor, data: [
                "sha256": .string(digest), "model": .string(row.model), "version": .string(row.version),
                "devices": .array(devices.prefix(1000).map(JSONValue.string)),
            ])
            return (row, devices)
        }
        for device in devices {
            guard let entry = try await directory.entry(device) else { continue }
            monitoring.raise(.firmwareRevoked, detail: "runs \(row.model) \(row.version) (\(digest.prefix(16))…), revoked by \(actor)", counting: .firmwareDrift, of: entry)
        }
        return (FirmwareView(row), devices)
    }

    func list() async throws -> [FirmwareView] {
        try await store.read { try await $0.firmware.all() }.map(FirmwareView.init)
    }

    /// Opens the measurement envelope an enrolled device sent (with the key the directory holds for
    /// it) and records what it is judged. With `nonce`, the measurement must answer it (the caller
    /// spends the nonce).
    func attest(_ token: String, by device: DeviceRecord, phase: AttestationPhase, nonce: String? = nil) async throws -> FirmwareVerdict {
        guard let entry = try await directory.entry(device.id) else { throw ServiceError.unauthenticated("device \(device.id) is not known here") }
        return try await recordMeasurement(try openMeasurement(token, did: device.did, key: entry.key, nonce: nonce), device: device, phase: phase)
    }

    /// Opens a measurement envelope signed by `key` for `did`: type, signature, clock window, and,
    /// when the server asked with `nonce`, that the measurement signs that nonce: a measurement
    /// made for another question (or none) is refused, so that none can be replayed.
    func openMeasurement(_ token: String, did: String, key: PublicKey, nonce: String? = nil) throws -> FirmwareMeasurement {
        let envelope: TelemetryEnvelope
        switch TelemetryEnvelope.open(token, device: did, key: key) {
        case .success(let opened): envelope = opened
        case .failure(let failure): throw ServiceError.unprocessable("the firmware measurement is not usable: \(failure.reason)")
        }
        guard abs(envelope.time.timeIntervalSince(clock.now)) <= Self.clockWindow else {
            throw ServiceError.unprocessable("the firmware measurement was signed at \(RFC3339.format(envelope.time)), outside the \(Int(Self.clockWindow)) s window")
        }
        let measurement: FirmwareMeasurement
        do {
            measurement = try FirmwareMeasurement(envelope: envelope)
        } catch let error as VouchKitError {
            throw ServiceError.unprocessable(error.reason)
        }
        if let nonce {
            guard let signed = measurement.nonce, ConstantTime.equals(signed, nonce) else {
                throw ServiceError.unprocessable(
                    "the firmware measurement must answer this request's nonce: put the nonce (from POST /v1/auth/challenge) in its payload's \"nonce\"")
            }
        }
        return measurement
    }

    /// Records a device's measurement and judges it against the registry for its model. An unknown
    /// or revoked measurement, or a change of image, is an event, and counts as firmware drift.
    @discardableResult
    func recordMeasurement(_ measurement: FirmwareMeasurement, device: DeviceRecord, phase: AttestationPhase) async throws -> FirmwareVerdict {
        let model = device.attributes["model"]
        let stamp = clock.seconds
        let verdict = try await store.transaction { session -> FirmwareVerdict in
            let registered = try await session.firmware.find(digest: measurement.sha256).map {
                RegisteredFirmware(digest: $0.digest, model: $0.model, version: $0.version, revoked: $0.status == .revoked)
            }
            let (status, detail) = FirmwareJudgement.judge(sha256: measurement.sha256, deviceModel: model, registered: registered)
            let previous = try await session.firmware.report(deviceID: device.id)
            try await session.firmware.record(FirmwareReport(
                deviceId: device.id, digest: measurement.sha256, version: measurement.version, status: status, phase: phase, reportedAt: stamp))
            if status != .good || previous?.digest != measurement.sha256 || previous?.status != status {
                try await self.events.record(session, kind: .firmwareReported, subject: device.id, actor: "device:\(device.id)", data: [
                    "sha256": .string(measurement.sha256), "version": .string(measurement.version), "status": .string(status.rawValue),
                    "phase": .string(phase.rawValue), "previous": previous.map { .string($0.digest) } ?? .null,
                ])
            }
            return FirmwareVerdict(status: status, sha256: measurement.sha256, version: measurement.version, phase: phase, detail: detail)
        }
        if verdict.status != .good, let entry = try await directory.entry(device.id) {
            let kind: SignalKind = verdict.status == .revoked ? .firmwareRevoked : .firmwareUnknown
            monitoring.raise(kind, detail: "\(phase.rawValue): \(verdict.detail)", counting: .firmwareDrift, of: entry)
        }
        return verdict
    }

    /// The device's latest verdict, if it has reported.
    func firmwareVerdict(of deviceID: String) async throws -> FirmwareReport? {
        try await store.read { try await $0.firmware.report(deviceID: deviceID) }
    }

    /// A measurement sent to pass a gate: it must answer `nonce` (from `POST /v1/auth/challenge`),
    /// which is spent before the measurement is recorded, so that neither can serve twice.
    func freshMeasurement(_ token: String?, nonce: String?, by device: DeviceRecord, phase: AttestationPhase) async throws -> FirmwareVerdict? {
        guard let token else {
            if nonce != nil { throw ServiceError.invalidRequest("a nonce is sent only with the measurement that answers it") }
            return nil
        }
        guard let nonce else {
            throw ServiceError.invalidRequest(
                "a measurement sent with this request answers a nonce: send {\"nonce\", \"measurement\"} with a nonce from POST /v1/auth/challenge in the measurement's payload")
        }
        guard let entry = try await directory.entry(device.id) else { throw ServiceError.unauthenticated("device \(device.id) is not known here") }
        let measurement = try openMeasurement(token, did: device.did, key: entry.key, nonce: nonce)
        try await nonces.consumeDeviceNonce(nonce)
        return try await recordMeasurement(measurement, device: device, phase: phase)
    }
}
