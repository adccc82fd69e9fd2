import Foundation
import Synchronization
import VouchAPI
import VouchCore
import VouchKit

/// Keeps a `BrokerGate` current with a Vouch server: the devices and the policy read in full
/// (`/v1/gateway/devices`, `/v1/gateway/policy`), then every change as it is committed
/// (`/v1/gateway/stream`, resumed after the last change applied). When the server cannot be
/// reached the gate keeps deciding from what it has (see `BrokerGate.Settings`), and the sync
/// tries again, a second later at first, then up to every 10 s; back, it resumes where it was, or
/// loads everything again when the server no longer knows that position.
public final class GatewaySync: Sendable {
    public let gate: BrokerGate
    private let http: GatewayHTTP
    private let client: VouchClient
    private let apiKey: String
    private let log: @Sendable (String) -> Void
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// Devices read per page at a full load.
    let pageSize: Int
    /// How often what devices did goes to the server's monitoring.
    let reportEvery: Duration

    /// `log` gets one line per thing an operator should know (loaded, lost, back).
    public init(
        gate: BrokerGate, server: String, apiKey: String, pageSize: Int = 1000, reportEvery: Duration = .seconds(10),
        log: @escaping @Sendable (String) -> Void
    ) throws {
        self.gate = gate
        self.pageSize = min(max(pageSize, 1), 1000)
        self.reportEvery = reportEvery
        self.http = try GatewayHTTP(server: server)
        self.client = VouchClient(transport: http, credential: .apiKey(apiKey))
        self.apiKey = apiKey
        self.log = log
    }

    /// Starts following the server and reporting to it, in the background.
    public func start() {
        tasks.withLock { running in
            guard running.isEmpty else { return }
            running = [
                Task.detached { [self] in await run() }, Task.detached { [self] in await reportLoop() },
                Task.detached { [self] in await watchFreshness() },
            ]
        }
    }

    /// Stops following and reporting (counts not yet sent stay in the gate).
    public func stop() {
        tasks.withLock { running in
            for task in running { task.cancel() }
            running = []
        }
    }

    /// Says when the directory goes stale (and what the gate does then) and when it is current again.
    private func watchFreshness() async {
        var wasFresh = true
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            guard gate.sequence != nil else { continue }
            let fresh = gate.isFresh()
            if wasFresh && !fresh {
                log("Vouch has not been heard from for over \(gate.settings.maxStaleness.components.seconds) s (max_staleness): "
                    + (gate.settings.failClosed ? "new connections are refused until it is" : "still admitting from what the broker has (fail_closed false)"))
            } else if !wasFresh && fresh {
                log("Vouch is heard from again; the directory is current")
            }
            wasFresh = fresh
        }
    }

    /// Sends what devices did, every `reportEvery`; what cannot be sent waits for the next time.
    private func reportLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: reportEvery)
            await sendReports()
        }
    }

    /// Sends the reports gathered so far, at most 1,000 devices a request; returns whether all went.
    @discardableResult
    public func sendReports() async -> Bool {
        let reports = gate.takeReports()
        var start = 0
        while start < reports.count {
            let batch = Array(reports[start..<min(start + GatewayReport.limit, reports.count)])
            do {
                _ = try await client.gatewayReport(GatewayReport(devices: batch))
            } catch {
                gate.restore(Array(reports[start...]))
                log("cannot report to Vouch: \((error as? VouchClientError)?.reason ?? "\(error)"); keeping the counts for the next report")
                return false
            }
            start += batch.count
        }
        return true
    }

    private func run() async {
        var delay: Duration = .seconds(1)
        var reload = true
        while !Task.isCancelled {
            do {
                if reload || gate.sequence == nil {
                    try await loadAll()
                    reload = false
                }
                try await follow()
                // Ended by the server (a restart, or too many streams): again, after a second.
                delay = .seconds(1)
                try? await Task.sleep(for: delay)
            } catch let error as VouchClientError where error.status == 409 {
                // The server does not know the position (a new database): everything again.
                log("Vouch does not know event \(gate.sequence ?? 0) (\(error.reason)); loading every device again")
                reload = true
            } catch is CancellationError {
                return
            } catch {
                log("cannot follow Vouch: \((error as? VouchClientError)?.reason ?? "\(error)"); trying again in \(delay.components.seconds) s")
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }

    /// Reads every device and the policy, and hands them to the gate at once.
    func loadAll() async throws {
        var devices: [GatewayDevice] = []
        var after: String?
        var sequence: Int?
        repeat {
            let page = try await client.gatewayDevices(after: after, limit: pageSize)
            // The first page's position: changes during the walk come again from the stream.
            if sequence == nil { sequence = page.sequence }
            devices += page.devices
            after = page.next
        } while after != nil
        let policy = try compile(try await client.gatewayPolicy())
        gate.load(devices: devices, policy: policy, sequence: sequence ?? 0)
        log("loaded \(devices.count) devices and policy version \(gate.policyVersion) from Vouch, current with event \(sequence ?? 0)")
    }

    /// Applies the stream's frames until it ends.
    private func follow() async throws {
        let after = gate.sequence ?? 0
        let decoder = JSONDecoder()
        try await http.stream("/v1/gateway/stream", apiKey: apiKey, lastEventID: String(after)) { frame in
            if let comment = frame.comment {
                // ": heartbeat N": every change up to N has been sent.
                let words = comment.split(separator: " ")
                gate.heard(sequence: words.count == 2 && words[0] == "heartbeat" ? Int(words[1]) : nil)
                return
            }
            let sequence = frame.id.flatMap { Int($0) }
            let data = Data(frame.data.utf8)
            switch frame.event {
            case "device":
                gate.apply(try decoder.decode(GatewayDevice.self, from: data), sequence: sequence)
            case "removed":
                gate.remove(device: try decoder.decode(GatewayRemoval.self, from: data).id, sequence: sequence)
            case "policy":
                if let policy = try compile(try decoder.decode(GatewayPolicy.self, from: data)) {
                    gate.apply(policy: policy, sequence: sequence)
                    log("policy version \(policy.version) in force")
                } else {
                    gate.heard(sequence: sequence)
                }
            default:
                gate.heard(sequence: sequence)
            }
        }
    }

    /// The policy compiled; nil (said in the log) when its text does not parse here, so that the
    /// version in force keeps deciding.
    private func compile(_ policy: GatewayPolicy) throws -> CompiledPolicy? {
        guard policy.version > 0 else { return CompiledPolicy(version: 0, document: .empty) }
        do {
            return CompiledPolicy(version: policy.version, document: try PolicyDocument(parsing: policy.source))
        } catch {
            log("policy version \(policy.version) does not parse here (\(error.problems.prefix(3).map(\.description).joined(separator: "; "))); keeping version \(gate.policyVersion)")
            return nil
        }
    }
}
