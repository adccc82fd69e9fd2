import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import VouchStore
@testable import VouchServer

/// Runs `test` with the server's services and its router in process, for tests that reach past the
/// API (the responder, a service's guard that the API cannot reach). The log's loop runs as in the
/// server (it appends, publishes checkpoints and ends the waits for receipts); it stops, and the
/// database closes, when `test` returns.
func withServices<T: Sendable>(
    dataDirectory: String, _ test: @escaping @Sendable (VouchServices, any TestClientProtocol, String) async throws -> T
) async throws -> T {
    var logger = Logger(label: "vouch-test")
    logger.logLevel = .error
    let configuration = ServerConfiguration(
        port: 0, dataDirectory: dataDirectory, publicURL: "https://vouch.test", checkpointInterval: .milliseconds(20), receiptTimeout: .seconds(2))
    let services = try await ServerLoader.load(configuration: configuration, logger: logger).services
    let database = DatabaseService(log: services.log, changes: services.changes, store: services.store)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await database.run() }
        do {
            try await services.changes.start()
            let admin = try String(contentsOfFile: dataDirectory + "/admin-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let application = Application(router: try buildRouter(services: services, configuration: configuration))
            let result = try await application.test(.router) { client in try await test(services, client, admin) }
            group.cancelAll()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            try? await group.waitForAll()
            throw error
        }
    }
}
