import Foundation
import SwiftASN1
import Hummingbird
import VouchCore
import VouchKit
import VouchStore

/// What anyone may read: the CA, CRL, OCSP, status lists, the DID document, the trust bundle,
/// health, metrics and the API description.
struct PublicController {
    let issuance: IssuanceService
    let store: Store
    let apiKeys: APIKeyMiddleware
    let metrics: ServerMetrics
    /// Per-source limit of the routes that read or sign on demand (PKI, OCSP, status lists, the
    /// trust bundle, the DID document): anyone may ask, nobody may ask without end.
    let limiter: RateLimiter

    func addRoutes(to router: Router<VouchRequestContext>) {
        let router = router.group().add(middleware: RateLimitMiddleware(limiter: limiter, exempt: ["/healthz", "/readyz", "/metrics", "/openapi.yaml"]))
        router.get("/healthz") { _, _ in Responses.text("ok\n", contentType: "text/plain") }
        router.get("/readyz") { _, _ in
            _ = try await store.read { try await $0.counters.current(.events) }
            return Responses.text("ready\n", contentType: "text/plain")
        }
        // Counts by state and route tell an outsider fleet size and activity: operators' keys only
        // (Prometheus: authorization credentials_file with a read-only key).
        router.group().add(middleware: apiKeys).get("/metrics") { _, context in
            _ = try context.require(.readOnly)
            let (counts, last) = try await store.read { (try await $0.devices.countsByState(), try await $0.counters.current(.events)) }
            return Responses.text(metrics.render(devicesByState: counts, lastEvent: last), contentType: "text/plain; version=0.0.4")
        }
        router.get("/openapi.yaml") { _, _ in
            Responses.text(OpenAPIDocument.text, contentType: "application/yaml")
        }
        router.get("/.well-known/did.json") { _, _ in
            Responses.bytes(Array(try issuance.didDocument.jsonData()), contentType: "application/did+json")
        }
        router.get("/v1/pki/ca.pem") { _, _ in
            Responses.text(try issuance.ca.root.serializeAsPEM().pemString + "\n", contentType: "application/x-pem-file")
        }
        router.get("/v1/pki/intermediate.pem") { _, _ in
            Responses.text(try issuance.ca.intermediate.serializeAsPEM().pemString + "\n", contentType: "application/x-pem-file")
        }
        // DER, as RFC 5280 §4.2.2.1 has the caIssuers access method point at (application/pkix-cert).
        router.get("/v1/pki/ca.crt") { _, _ in
            Responses.bytes(try DERBytes.of(issuance.ca.root), contentType: "application/pkix-cert")
        }
        router.get("/v1/pki/intermediate.crt") { _, _ in
            Responses.bytes(try DERBytes.of(issuance.ca.intermediate), contentType: "application/pkix-cert")
        }
        router.get("/v1/pki/root.crl") { _, _ in
            Responses.bytes(try issuance.rootRevocationList(), contentType: "application/pkix-crl")
        }
        router.get("/v1/pki/chain.pem") { _, _ in
            Responses.text(try issuance.ca.chainPEM, contentType: "application/x-pem-file")
        }
        router.get("/v1/pki/crl") { _, _ in
            Responses.bytes(try await issuance.certificateRevocationList(), contentType: "application/pkix-crl")
        }
        router.get("/v1/pki/crl.pem") { _, _ in
            let der = try await issuance.certificateRevocationList()
            return Responses.text(PEMDocument(type: "X509 CRL", derBytes: der).pemString + "\n", contentType: "application/x-pem-file")
        }
        router.post("/v1/pki/ocsp") { request, context in
            guard request.headers[.contentType]?.lowercased().hasPrefix("application/ocsp-request") ?? false else {
                throw ServiceError.unsupportedMediaType("send the DER OCSP request with Content-Type: application/ocsp-request")
            }
            let body = try await request.bodyBytes(context: context, limit: 16 * 1024, tooLarge: "an OCSP request is at most 16 KiB")
            return Responses.bytes(try await issuance.ocsp(Array(body.readableBytesView)), contentType: "application/ocsp-response")
        }
        router.get("/v1/pki/ocsp/**") { request, context in
            // RFC 6960 Appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER OCSP request}
            let encoded = context.parameters.getCatchAll().joined(separator: "/")
            guard let text = encoded.removingPercentEncoding, let der = Data(base64Encoded: text) else {
                throw ServiceError.invalidRequest("the path after /v1/pki/ocsp/ must be the URL-encoded base64 of a DER OCSP request")
            }
            return Responses.bytes(try await issuance.ocsp(Array(der)), contentType: "application/ocsp-response")
        }
        router.get("/v1/status-lists/{id}") { _, context in
            let id = try context.parameters.require("id")
            return Responses.text(try await issuance.statusListCredential(id: id), contentType: "application/vc+jwt")
        }
        router.get("/v1/contexts/vouch-v1.jsonld") { _, _ in
            Responses.bytes(VouchContext.document(url: VouchContext.url(authority: issuance.publicURL)), contentType: "application/ld+json")
        }
        router.get("/v1/trust-bundle") { _, _ in
            Responses.text(try await issuance.trustBundle(), contentType: "application/jwt")
        }
    }
}
