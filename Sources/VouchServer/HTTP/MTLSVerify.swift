// BoringSSL as swift-nio-ssl vendors it. NIOSSL imports these modules as implementation details
// and offers no way to choose the alert a refused client certificate is answered with, nor to turn
// session resumption off; both are set here on the SSL objects NIOSSL makes. Its version is pinned
// by Package.swift's dependencies; MTLSTests fail if a new one hides what this reads.
import CNIOBoringSSL
import CNIOBoringSSLShims
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// The mTLS listener's TLS, as HummingbirdTLS's `TLSChannel` with two differences:
///
/// - The client certificate is decided by Vouch's own BoringSSL verify callback (asking
///   `decide` asynchronously), so that a refusal ends the handshake with the alert that says why:
///   `certificate_revoked` for a revoked or held certificate, as `openssl s_server` answers with a
///   CRL; NIOSSL's own callback can only end it with `certificate_unknown`.
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
        SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF)
        SSL_CTX_set_options(context, UInt32(SSL_OP_NO_TICKET))
        // Every SSL object made from the context inherits the callback; one without its check
        // attached (MTLSInternals.attach) is refused.
        SSL_CTX_set_custom_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, vouchVerifyClientCertificate)
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let handler = NIOSSLServerHandler(context: sslContext)
            guard let ssl = MTLSInternals.ssl(of: handler) else { throw MTLSInternals.unavailable }
            MTLSInternals.attach(ClientCertificateCheck(channel: channel, decide: decide), to: ssl)
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

/// One connection's client-certificate decision, kept on its SSL object while BoringSSL asks for
/// it. Touched only on the channel's event loop, where BoringSSL runs the handshake.
final class ClientCertificateCheck: @unchecked Sendable {
    enum State {
        case notStarted
        case pending
        case decided(alert: UInt8?)
    }

    var state = State.notStarted
    let channel: any Channel
    let decide: MTLSChannel<HTTP1Channel>.Decide

    init(channel: any Channel, decide: @escaping MTLSChannel<HTTP1Channel>.Decide) {
        self.channel = channel
        self.decide = decide
    }

    /// Asks `decide` off the event loop; when it answers, spins the handshake again by handing
    /// NIOSSL's handler an empty read (it feeds the bytes, none, and steps the handshake), where
    /// BoringSSL asks the callback again and gets the answer.
    func start(_ chain: [[UInt8]]) {
        state = .pending
        let channel = channel
        let decide = decide
        Task {
            let alert = await decide(chain)
            channel.eventLoop.execute {
                self.state = .decided(alert: alert)
                channel.pipeline.fireChannelRead(ByteBuffer())
                channel.pipeline.fireChannelReadComplete()
            }
        }
    }
}

/// BoringSSL's custom verify callback (`SSL_CTX_set_custom_verify`): asks the connection's check,
/// and answers "ask me again" until it has decided.
private func vouchVerifyClientCertificate(_ ssl: OpaquePointer?, _ alert: UnsafeMutablePointer<UInt8>?) -> ssl_verify_result_t {
    guard let ssl, let check = MTLSInternals.check(of: ssl) else { return ssl_verify_invalid }
    switch check.state {
    case .decided(alert: nil):
        return ssl_verify_ok
    case .decided(alert: let code?):
        alert?.pointee = code
        return ssl_verify_invalid
    case .pending:
        return ssl_verify_retry
    case .notStarted:
        guard let stack = SSL_get0_peer_certificates(ssl) else { return ssl_verify_invalid }
        var chain: [[UInt8]] = []
        for index in 0..<CNIOBoringSSLShims_sk_CRYPTO_BUFFER_num(stack) {
            guard let buffer = CNIOBoringSSLShims_sk_CRYPTO_BUFFER_value(stack, index), let bytes = CRYPTO_BUFFER_data(buffer) else {
                return ssl_verify_invalid
            }
            chain.append(Array(UnsafeBufferPointer(start: bytes, count: CRYPTO_BUFFER_len(buffer))))
        }
        guard !chain.isEmpty else { return ssl_verify_invalid }
        check.start(chain)
        return ssl_verify_retry
    }
}

/// What NIOSSL keeps private and this needs: the SSL_CTX of a context and the SSL of a handler
/// (read with Mirror), and an ex_data slot on each SSL for its check (released with the SSL).
enum MTLSInternals {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String {
            "this build of swift-nio-ssl does not expose its SSL objects as Vouch expects (NIOSSLContext.sslContext, NIOSSLHandler.connection.ssl); the mTLS listener cannot decide client certificates"
        }
    }

    static let unavailable = Unavailable()

    /// The slot; its free function releases the check when BoringSSL frees the SSL.
    static let index: Int32 = SSL_get_ex_new_index(0, nil, nil, nil) { _, pointer, _, _, _, _ in
        if let pointer { Unmanaged<ClientCertificateCheck>.fromOpaque(pointer).release() }
    }

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

    static func attach(_ check: ClientCertificateCheck, to ssl: OpaquePointer) {
        SSL_set_ex_data(ssl, index, Unmanaged.passRetained(check).toOpaque())
    }

    static func check(of ssl: OpaquePointer) -> ClientCertificateCheck? {
        guard let pointer = SSL_get_ex_data(ssl, index) else { return nil }
        return Unmanaged<ClientCertificateCheck>.fromOpaque(pointer).takeUnretainedValue()
    }
}
