import Foundation
import Hummingbird
import SwiftASN1
import VouchCore
import VouchKit

/// What anyone may read: the CA, CRL, OCSP, status lists, the DID document, the trust bundle,
/// health, metrics and the API description.
struct PublicController<Issuance: IssuanceServing, Devices: LifecycleManaging, Keys: APIKeyManaging> {
    let issuance: Issuance
    let devices: Devices
    let apiKeys: Keys
    let metrics: ServerMetrics
    /// Monitoring: the responder's queue depth and the devices held, which /metrics shows.
    let monitoring: MonitoringService
    /// The transparency log: its size and the sequencer's lag, which /metrics shows.
    let log: TransparencyLog
    /// Per-source limit of the routes that read or sign on demand (PKI, OCSP, status lists, the
    /// trust bundle, the DID document): anyone may ask, nobody may ask without end.
    let limiter: RateLimiter

    var endpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
        routes.get("healthz", use: health)
        routes.get("readyz", use: ready)
        routes.get("openapi.yaml", use: description)
        // Counts by state and route tell an outsider fleet size and activity: operators' keys only
        // (Prometheus: authorization credentials_file with a read-only key).
        routes.group()
            .add(middleware: APIKeyAuthenticator(apiKeys: apiKeys))
            .add(middleware: RequireScope(.readOnly))
            .get("metrics", use: prometheus)
        let limited = routes.group().add(middleware: RateLimitMiddleware(limiter: limiter))
        limited.get(".well-known/did.json", use: didDocument)
        limited.get("v1/pki/ca.pem", use: rootPEM)
        limited.get("v1/pki/intermediate.pem", use: intermediatePEM)
        limited.get("v1/pki/ca.crt", use: rootDER)
        limited.get("v1/pki/intermediate.crt", use: intermediateDER)
        limited.get("v1/pki/root.crl", use: rootCRL)
        limited.get("v1/pki/chain.pem", use: chain)
        limited.get("v1/pki/crl", use: crl)
        limited.get("v1/pki/crl.pem", use: crlPEM)
        limited.get("v1/pki/issuers/{generation}/crl", use: issuerCRL)
        limited.get("v1/pki/issuers/{generation}/certificate", use: issuerDER)
        limited.post("v1/pki/ocsp", use: ocsp)
        limited.get("v1/pki/ocsp/**", use: ocspByGET)
        limited.get("v1/status-lists/{id}", use: statusList)
        limited.get("v1/contexts/vouch-v1.jsonld", use: jsonLDContext)
        limited.get("v1/trust-bundle", use: trustBundle)
        return routes
    }

    @Sendable func health(_ request: Request, context: VouchRequestContext) -> Response {
        Responses.text("ok\n", contentType: "text/plain")
    }

    @Sendable func ready(_ request: Request, context: VouchRequestContext) async throws -> Response {
        _ = try await devices.lastEvent()
        return Responses.text("ready\n", contentType: "text/plain")
    }

    @Sendable func description(_ request: Request, context: VouchRequestContext) -> Response {
        Responses.text(OpenAPIDocument.text, contentType: "application/yaml")
    }

    @Sendable func prometheus(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let (counts, last) = try await devices.fleetCounts()
        let snapshot = ServerMetrics.Snapshot(
            devicesByState: counts, lastEvent: last, logSize: Int(log.published?.size ?? 0), responsesPending: monitoring.responses.pending,
            monitoredDevices: monitoring.watchedDevices, evictedDevices: monitoring.evictedDevices, signalsRaised: monitoring.signalsRaised,
            responsesOrdered: monitoring.responses.orderedByAction)
        return Responses.bytes(metrics.render(snapshot), contentType: "text/plain; version=0.0.4; charset=utf-8", cache: "no-store")
    }

    @Sendable func didDocument(_ request: Request, context: VouchRequestContext) throws -> Response {
        Responses.bytes(Array(try issuance.didDocument.jsonData()), contentType: "application/did+json")
    }

    @Sendable func rootPEM(_ request: Request, context: VouchRequestContext) throws -> Response {
        Responses.text(try issuance.ca.root.serializeAsPEM().pemString + "\n", contentType: "application/x-pem-file")
    }

    /// Every issuing CA in use, the current one first (two during a rotation's overlap).
    @Sendable func intermediatePEM(_ request: Request, context: VouchRequestContext) throws -> Response {
        Responses.text(try issuance.issuingCAs.map { try $0.intermediate.serializeAsPEM().pemString + "\n" }.joined(), contentType: "application/x-pem-file")
    }

    /// DER, as RFC 5280 §4.2.2.1 has the caIssuers access method point at (application/pkix-cert).
    @Sendable func rootDER(_ request: Request, context: VouchRequestContext) throws -> Response {
        Responses.bytes(try DERBytes.of(issuance.ca.root), contentType: "application/pkix-cert")
    }

    /// The first intermediate while what it issued is in use (its certificates name this URL), the
    /// current one otherwise.
    @Sendable func intermediateDER(_ request: Request, context: VouchRequestContext) throws -> Response {
        Responses.bytes(try DERBytes.of(issuance.firstGenerationCA.intermediate), contentType: "application/pkix-cert")
    }

    /// The issuing CA of the path's generation, if it is in use.
    func issuingCA(_ context: VouchRequestContext) throws -> CertificateAuthority {
        let text = try context.parameters.require("generation")
        guard text.utf8.count <= 6, let generation = Int(text), let authority = issuance.issuingCAs.first(where: { $0.generation == generation }) else {
            throw ServiceError.notFound(
                "no issuing CA of generation \(text.prefix(16)) is in use; these are: \(issuance.issuingCAs.map { String($0.generation) }.joined(separator: ", "))")
        }
        return authority
    }

    @Sendable func issuerDER(_ request: Request, context: VouchRequestContext) throws -> Response {
        Responses.bytes(try DERBytes.of(try issuingCA(context).intermediate), contentType: "application/pkix-cert")
    }

    @Sendable func issuerCRL(_ request: Request, context: VouchRequestContext) async throws -> Response {
        Responses.bytes(try await issuance.certificateRevocationList(of: try issuingCA(context)), contentType: "application/pkix-crl")
    }

    @Sendable func rootCRL(_ request: Request, context: VouchRequestContext) throws -> Response {
        Responses.bytes(try issuance.rootRevocationList(), contentType: "application/pkix-crl")
    }

    @Sendable func chain(_ request: Request, context: VouchRequestContext) throws -> Response {
        Responses.text(issuance.ca.chainPEM, contentType: "application/x-pem-file")
    }

    @Sendable func crl(_ request: Request, context: VouchRequestContext) async throws -> Response {
        Responses.bytes(try await issuance.certificateRevocationList(of: issuance.firstGenerationCA), contentType: "application/pkix-crl")
    }

    @Sendable func crlPEM(_ request: Request, context: VouchRequestContext) async throws -> Response {
        // Every issuing CA's, the current one first: what `openssl verify -CRLfile` wants.
        var text = ""
        for authority in issuance.issuingCAs {
            text += PEMDocument(type: "X509 CRL", derBytes: try await issuance.certificateRevocationList(of: authority)).pemString + "\n"
        }
        return Responses.text(text, contentType: "application/x-pem-file")
    }

    @Sendable func ocsp(_ request: Request, context: VouchRequestContext) async throws -> Response {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/ocsp-request") ?? false else {
            throw ServiceError.unsupportedMediaType("send the DER OCSP request with Content-Type: application/ocsp-request")
        }
        let body = try await request.bodyBytes(limit: 16 * 1024, tooLarge: "an OCSP request is at most 16 KiB")
        // RFC 5019 §5: answers to POST are not for HTTP caches.
        return Responses.bytes(try await issuance.ocsp(Array(body.readableBytesView), path: nil).der, contentType: "application/ocsp-response", cache: "no-store")
    }

    /// RFC 6960 Appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER OCSP request}
    @Sendable func ocspByGET(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let path = request.uri.path
        // As sent (the router's catch-all for a path it normalized, such as one with doubled slashes).
        let encoded =
            path.hasPrefix(OCSPAnswer.getPrefix)
            ? String(path.dropFirst(OCSPAnswer.getPrefix.count)) : context.parameters.getCatchAll().joined(separator: "/")
        let malformed = ServiceError.invalidRequest("the path after /v1/pki/ocsp/ must be the URL-encoded base64 of a DER OCSP request")
        guard !encoded.isEmpty else { throw malformed }
        // A request asked before is answered by its path, without decoding it again.
        let answer = try await issuance.ocsp(path: encoded) {
            guard let text = Self.percentDecoded(encoded), let der = Data(base64Encoded: text), !der.isEmpty else { throw malformed }
            return Array(der)
        }
        guard let etag = answer.etag else {
            return Responses.bytes(answer.der, contentType: "application/ocsp-response", cache: "no-store")
        }
        // RFC 5019 §6.2: validators and freshness for HTTP caches. max-age stops well before
        // nextUpdate (at most a minute) so that a cache does not hide a revocation for long; a cache
        // revalidates with If-None-Match, answered 304 while the same answer stands.
        let maxAge = max(0, min(OCSPAnswer.httpMaxAge, answer.nextUpdate - issuance.clock.seconds))
        var headers: HTTPFields = [
            .contentType: "application/ocsp-response",
            .cacheControl: maxAge == OCSPAnswer.httpMaxAge ? OCSPAnswer.cacheControl : "max-age=\(maxAge), public, no-transform, must-revalidate",
            .eTag: etag,
            .lastModified: answer.lastModified,
            .expires: answer.expires,
        ]
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(answer.der.count)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.der)))
    }

    /// `text` with its %XX escapes decoded; nil when an escape is malformed or the result is not UTF-8.
    /// (Foundation's `removingPercentEncoding` cost OCSP by GET a tenth of the server's time.)
    static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    @Sendable func statusList(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        return Responses.text(try await issuance.statusListCredential(id: id), contentType: "application/vc+jwt")
    }

    @Sendable func jsonLDContext(_ request: Request, context: VouchRequestContext) -> Response {
        Responses.bytes(VouchContext.document(url: VouchContext.url(authority: issuance.publicURL)), contentType: "application/ld+json")
    }

    @Sendable func trustBundle(_ request: Request, context: VouchRequestContext) async throws -> Response {
        Responses.text(try await issuance.trustBundle(), contentType: "application/jwt")
    }
}
