// BoringSSL as swift-nio-ssl vendors it. NIOSSL imports these modules as implementation details
// and offers no way to choose the alert a refused client certificate is answered with, nor to turn
// session resumption off; both are done here on the SSL objects NIOSSL makes. Its version is pinned
// by Package.swift's dependencies; MTLSTests fail if a new one hides what this reads.
import CNIOBoringSSL
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// The mTLS listener's TLS, as HummingbirdTLS's `TLSChannel` with two differences:
///
/// - A refused client certificate ends the handshake with the alert that says why:
///   `certificate_revoked` for a revoked or held certificate, as `openssl s_server` answers with a
///   CRL. NIOSSL's asynchronous verification decides (`decide`), and before it is told "failed"
///   the alert is sent with `SSL_send_fatal_alert`; BoringSSL then sends no second one (its own
///   would be `certificate_unknown`, whatever the reason).
/// - No session is resumed: neither tickets nor the server's session cache. BoringSSL does not
///   verify the client certificate again when a session resumes, so a device revoked after its
///   first handshake could otherwise come back. Every connection is a full handshake.
struct MTLSChannel<BaseChannel: ServerChildChannel>: ServerChildChannel {
    typealias Value = BaseChannel.Value
    /// Decides a client's chain (DER, leaf first): nil accepts, an alert code refuses.
    typealias Decide = @Sendable ([[UInt8]]) async -> UInt8?

    let baseChannel: BaseChannel
    let sslContext: NIOSSLContext
    let decide: Decide

    init(_ baseChannel: BaseChannel, tlsConfiguration: TLSConfiguration, decide: @escaping Decide) throws {
        self.baseChannel = baseChannel
        self.decide = decide
        sslContext = try NIOSSLContext(configuration: tlsConfiguration)
        guard let context = MTLSInternals.handle(of: sslContext) else { throw MTLSInternals.unavailable }
        // Set before any connection is made from the context; each SSL object copies them.
        SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF)
        SSL_CTX_set_options(context, UInt32(SSL_OP_NO_TICKET))
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let connection = ConnectionHandle()
            let decide = decide
            let handler = NIOSSLServerHandler(context: sslContext) { certificates, promise in
                // On the event loop, inside BoringSSL's handshake; the decision is made off it.
                let chain = certificates.compactMap { try? $0.toDERBytes() }
                guard chain.count == certificates.count else { return promise.succeed(.failed) }
                let eventLoop = promise.futureResult.eventLoop
                Task {
                    let alert = await decide(chain)
                    eventLoop.execute {
                        guard let alert else { return promise.succeed(.certificateVerified) }
                        connection.sendFatalAlert(alert)
                        promise.succeed(.failed)
                    }
                }
            }
            guard MTLSInternals.ssl(of: handler) != nil else { throw MTLSInternals.unavailable }
            connection.handler = handler
            try channel.pipeline.syncOperations.addHandler(handler)
        }.flatMap {
            baseChannel.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: BaseChannel.Value, logger: Logger) async {
        await baseChannel.handle(value: value, logger: logger)
    }
}

extension MTLSChannel: HTTPChannelHandler where BaseChannel: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { baseChannel.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over TLS whose client certificates `decide` judges (see `MTLSChannel`).
    static func mtls(tlsConfiguration: TLSConfiguration, decide: @escaping MTLSChannel<HTTP1Channel>.Decide) -> HTTPServerBuilder {
        .init { responder in
            try MTLSChannel(HTTP1Channel(responder: responder), tlsConfiguration: tlsConfiguration, decide: decide)
        }
    }
}

/// The connection's TLS handler, held weakly (the handler holds the verification callback that
/// holds this): while it lives, so does its SSL object. Touched only on the channel's event loop.
final class ConnectionHandle: @unchecked Sendable {
    weak var handler: NIOSSLServerHandler?

    /// Queues a fatal alert on the connection's SSL object; the handshake's failure, which follows,
    /// writes it out and closes. Nothing when the connection is gone.
    func sendFatalAlert(_ alert: UInt8) {
        guard let handler, let ssl = MTLSInternals.ssl(of: handler) else { return }
        _ = SSL_send_fatal_alert(ssl, alert)
    }
}

/// What NIOSSL keeps private and this needs, read with Mirror: the SSL_CTX of a context and the
/// SSL of a handler.
enum MTLSInternals {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String {
            "this build of swift-nio-ssl does not expose its SSL objects as Vouch expects (NIOSSLContext.sslContext, NIOSSLHandler.connection.ssl); the mTLS listener cannot choose its alerts or turn session resumption off"
        }
    }

    static let unavailable = Unavailable()

    static func handle(of context: NIOSSLContext) -> OpaquePointer? {
        Mirror(reflecting: context).children.first { $0.label == "sslContext" }?.value as? OpaquePointer
    }

    static func ssl(of handler: NIOSSLHandler) -> OpaquePointer? {
        var mirror: Mirror? = Mirror(reflecting: handler)
        while let current = mirror {
            if let connection = current.children.first(where: { $0.label == "connection" })?.value {
                return Mirror(reflecting: connection).children.first { $0.label == "ssl" }?.value as? OpaquePointer
            }
            mirror = current.superclassMirror
        }
        return nil
    }
}
