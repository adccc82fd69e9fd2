import Crypto
import Foundation
import Logging
import VouchCore
import VouchKit
import VouchStore

/// The feature services of one server, wired together: each owns its state and talks to the
/// others through their methods. Built once at start (see `ServerLoader`).
struct VouchServices: Sendable {
    let store: Store
    let clock: ServerClock
    let events: EventRecorder
    let directory: DirectoryService
    let monitoring: MonitoringService
    let policy: PolicyService
    let log: TransparencyLog
    let issuance: IssuanceService
    let nonces: NonceService
    let firmware: FirmwareService
    let deviceAuth: DeviceAuthService
    let apiKeys: APIKeyService
    let groups: GroupService
    let enrollment: EnrollmentService
    let lifecycle: LifecycleService
    let telemetry: TelemetryService
    let webhooks: WebhookService
    let changes: ChangeFollower
    let logger: Logger

    /// The keys and settings the services are made from.
    struct Keys {
        var ca: CertificateAuthority
        /// The issuing CA before the last rotation, while what it issued is in use.
        var previousCA: CertificateAuthority? = nil
        /// The root CRLs: signed here with the root key, or offline.
        var rootCRLs: RootRevocationLists
        var issuerKey: SigningKey
        var nonceKey: SymmetricKey
        var statusIndexKey: [UInt8]
        var webhookSigningKey: StandardWebhook.AsymmetricKey
    }

    init(
        store: Store, keys: Keys, log: TransparencyLog, publicURL: String, receiptTimeout: Duration = .seconds(5), telemetryKeep: Int = 0,
        monitorDeviceLimit: Int = FleetMonitor.defaultDeviceLimit, webhooks webhookSettings: WebhookSettings = WebhookSettings(), logger: Logger, clock: ServerClock
    ) throws {
        self.store = store
        self.clock = clock
        self.log = log
        self.logger = logger
        events = EventRecorder(clock: clock)
        directory = DirectoryService(store: store)
        monitoring = MonitoringService(directory: directory, clock: clock, logger: logger, deviceLimit: monitorDeviceLimit)
        policy = PolicyService(store: store, directory: directory, monitoring: monitoring, events: events, logger: logger)
        issuance = try IssuanceService(
            store: store, ca: keys.ca, previousCA: keys.previousCA, rootCRLs: keys.rootCRLs, issuerKey: keys.issuerKey, statusIndexKey: keys.statusIndexKey, publicURL: publicURL,
            policy: policy, log: log, events: events, receiptTimeout: receiptTimeout, logger: logger)
        nonces = NonceService(store: store, key: keys.nonceKey, clock: clock, logger: logger)
        firmware = FirmwareService(store: store, directory: directory, monitoring: monitoring, nonces: nonces, events: events)
        deviceAuth = DeviceAuthService(
            store: store, nonces: nonces, firmware: firmware, events: events, tokenKey: keys.issuerKey, tokenKeyID: issuance.issuer.keyID,
            did: issuance.did, publicURL: publicURL, ca: keys.ca, issuingCAs: issuance.issuingCAs, logger: logger)
        apiKeys = APIKeyService(store: store, events: events)
        groups = GroupService(store: store, events: events)
        enrollment = EnrollmentService(
            store: store, groups: groups, nonces: nonces, issuance: issuance, firmware: firmware, deviceAuth: deviceAuth, directory: directory,
            events: events)
        lifecycle = LifecycleService(store: store, groups: groups, issuance: issuance, directory: directory, monitoring: monitoring, events: events)
        telemetry = TelemetryService(policy: policy, directory: directory, monitoring: monitoring, clock: clock, keep: telemetryKeep)
        webhooks = WebhookService(store: store, events: events, settings: webhookSettings, signingKey: keys.webhookSigningKey, publicURL: publicURL, logger: logger)
        changes = ChangeFollower(store: store, directory: directory, apiKeys: apiKeys, policy: policy, monitoring: monitoring)
    }

    var publicURL: String { issuance.publicURL }
    var did: DID { issuance.did }
}
