import Foundation
import VouchCore
import VouchKit
import X509

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A `StatusFeed`'s source over HTTP: an authority's revocation stream, its status list
/// credentials and, given the issuing CAs to check it against, its CRL.
public struct VouchStatusFeedSource: StatusFeedSource {
    let transport: URLSessionTransport
    let stream: EventStreamClient
    let crlIssuers: [Certificate]

    /// `crlIssuers`: the issuing CAs whose signature a CRL must carry; none: CRLs are not read.
    public init(server: String, crlIssuers: [Certificate] = []) throws {
        transport = try URLSessionTransport(server: server)
        stream = try EventStreamClient(server: server, apiKey: nil)
        self.crlIssuers = crlIssuers
    }

    public func revocations(after generation: Int) -> AsyncThrowingStream<StatusFeedSignal, any Error> {
        let frames = stream.frames(path: "/v1/revocations/stream?after=\(generation)", comments: true)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await frame in frames {
                        if let comment = frame.comment {
                            let words = comment.trimmingCharacters(in: .whitespaces).split(separator: " ")
                            if words.count == 2, words[0] == "heartbeat", let generation = Int(words[1]) {
                                continuation.yield(.current(generation: generation))
                            }
                        } else if frame.event == "revocation" {
                            continuation.yield(.frame(try JSONDecoder().decode(RevocationFrame.self, from: Data(frame.data.utf8))))
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// A path on this server for `url` (the authority may name itself by a public URL that a
    /// gateway reaches another way).
    func path(of url: String) -> String {
        guard let components = URLComponents(string: url), !components.percentEncodedPath.isEmpty else { return url }
        return components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
    }

    public func statusListCredential(_ url: String) async throws -> String {
        let response = try await transport.send(VouchRequest(method: "GET", path: path(of: url)))
        guard response.isSuccess else { throw VouchClientError.refused(response) }
        return response.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func revokedSerials() async throws -> Set<String>? {
        guard !crlIssuers.isEmpty else { return nil }
        let response = try await transport.send(VouchRequest(method: "GET", path: "/v1/pki/crl"))
        guard response.isSuccess else { throw VouchClientError.refused(response) }
        let crl = try RevocationListReader(derEncoded: response.body)
        guard crlIssuers.contains(where: { crl.isSigned(by: $0) }) else {
            throw VouchKitError.cryptographicFailure("the CRL is not signed by an issuing CA this gateway trusts")
        }
        return Set(crl.revokedSerials.map { Hex.encode($0) })
    }
}
