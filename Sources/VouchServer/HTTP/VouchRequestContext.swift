import Foundation
import Hummingbird
import HummingbirdAuth
import NIOCore
import VouchCore
import VouchKit
import VouchStore

/// The request context: the caller's address and, once an authenticator has run, who is calling.
struct VouchRequestContext: AuthRequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// Who is calling, set by `APIKeyAuthenticator` or `DeviceAuthenticator`.
    var identity: Caller?
    /// The console session the request came with (set by `ConsoleAuthenticator`).
    var consoleSession: ConsoleSession?
    /// The client's address as a trusted proxy forwarded it (see `TrustedProxies`).
    var forwardedClient: IPAddress?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Bodies above 64 KiB are refused with 413: nothing the API takes is larger.
    var maxUploadSize: Int { 64 * 1024 }

    /// JSON bodies are read with errors a person can act on (`VouchRequestDecoder`).
    var requestDecoder: VouchRequestDecoder { VouchRequestDecoder() }

    /// Answers are sorted-key JSON that is never cached (`VouchResponseEncoder`).
    var responseEncoder: VouchResponseEncoder { VouchResponseEncoder() }

    var remoteAddress: SocketAddress? { channel.remoteAddress }

    /// The client's address, for policy conditions and monitoring: the peer's, or what a trusted
    /// proxy forwarded.
    var sourceAddress: IPAddress? { forwardedClient ?? peerAddress }

    /// The address of the connection's other end.
    var peerAddress: IPAddress? { remoteAddress?.ipAddress.flatMap(IPAddress.init) }

    /// The source address used for rate limiting.
    var sourceKey: String { forwardedClient?.description ?? remoteAddress?.ipAddress ?? "unknown" }

    /// The API key the request was authenticated with (`RequireScope` has made sure there is one).
    var apiKey: APIKeyIdentity {
        get throws {
            guard case .apiKey(let key) = identity else { throw RequireScope.missing }
            return key
        }
    }

    /// The device the request was authenticated as (`RequireDevice` has made sure there is one).
    var device: DeviceRecord {
        get throws {
            guard case .device(let device) = identity else { throw RequireDevice.missing }
            return device
        }
    }

    /// Who did it, for events.
    var actor: String { identity?.actor ?? "anonymous" }
}
