import Foundation

/// The fuzz targets: one per parser of outside data, named as `Fuzz/corpus/<name>/` and
/// `scripts/fuzz.sh` name them.
///
/// A target hands its input to a parser, then does with the result what the parser's callers do
/// next (verify, look up, answer), so that the fuzzer also reaches the code that trusts what was
/// parsed. Every thrown error is ignored: a parser refuses bad input with an error and must never
/// trap. Where a value written must read back as the same value (a checkpoint's text, the zone
/// rules a trust bundle carries, a DID), the target checks that too and traps when it does not:
/// two readings of one text are how two parties come to disagree.
///
/// Parsers that only run after a signature check (telemetry claims, status list credentials,
/// challenge answers, DPoP claims) get inputs signed first by ``FuzzFixture/deviceKey``.
enum FuzzTargets {
    /// Every target by name.
    static let all: [String: @Sendable (Data) -> Void] = [
        // X.509, PKCS#10, CRLs and OCSP (FuzzTargets+X509.swift)
        "certificate": { certificate($0) },
        "certificate-pem": { certificatePEM($0) },
        "csr": { certificateSigningRequest($0) },
        "csr-der": { certificateSigningRequestDER($0) },
        "crl": { revocationList($0) },
        "ocsp-request": { ocspRequest($0) },
        "ocsp-response": { ocspResponse($0) },
        // JWS and what they carry (FuzzTargets+JOSE.swift)
        "jws": { jws($0) },
        "jose-header": { joseHeader($0) },
        "credential": { credential($0) },
        "presentation": { presentation($0) },
        "challenge-response": { challengeResponse($0) },
        "device-proof": { deviceProof($0) },
        "dpop-proof": { dpopProof($0) },
        "dpop-claims": { dpopClaims($0) },
        // JSON and times (FuzzTargets+JSON.swift)
        "json-scanner": { jsonScanner($0) },
        "json-value": { jsonValue($0) },
        "numeric-date": { numericDate($0) },
        "rfc3339": { rfc3339($0) },
        // Policy (FuzzTargets+Policy.swift)
        "policy-document": { policyDocument($0) },
        "policy-test-suite": { policyTestSuite($0) },
        "response-condition": { responseCondition($0) },
        // Authorization (FuzzTargets+Authorization.swift)
        "ip-address": { ipAddress($0) },
        "resource-pattern": { resourcePattern($0) },
        "zone-rules": { zoneRules($0) },
        // Telemetry (FuzzTargets+Telemetry.swift)
        "telemetry-envelope": { telemetryEnvelope($0) },
        "telemetry-token": { telemetryToken($0) },
        "telemetry-batch": { telemetryBatch($0) },
        "firmware-measurement": { firmwareMeasurement($0) },
        // Transparency log (FuzzTargets+Transparency.swift)
        "signed-note": { signedNote($0) },
        "checkpoint": { checkpoint($0) },
        "note-key": { noteKey($0) },
        "log-tile": { logTile($0) },
        "entry-bundle": { entryBundle($0) },
        "merkle-proof": { merkleProof($0) },
        "log-receipt": { logReceipt($0) },
        "log-audit": { logAudit($0) },
        // Status lists (FuzzTargets+StatusList.swift)
        "bitstring-status-list": { bitstringStatusList($0) },
        "status-list-file": { statusListFile($0) },
        "status-list-credential": { statusListCredential($0) },
        // Identity (FuzzTargets+Identity.swift)
        "did": { did($0) },
        "did-document": { didDocument($0) },
        "jwk": { jwk($0) },
        "trust-bundle": { trustBundle($0) },
    ]

    /// The target named by the environment variable `VOUCH_FUZZ_TARGET`, looked up once; with
    /// `VOUCH_FUZZ_TARGET=list` the names are printed and the process exits.
    static let selected: @Sendable (Data) -> Void = {
        let name = ProcessInfo.processInfo.environment["VOUCH_FUZZ_TARGET"] ?? ""
        if name == "list" {
            print(all.keys.sorted().joined(separator: "\n"))
            exit(0)
        }
        guard let target = all[name] else {
            FileHandle.standardError.write(Data("VOUCH_FUZZ_TARGET must name a target (\"\(name)\" does not): \(all.keys.sorted().joined(separator: ", "))\n".utf8))
            exit(2)
        }
        return target
    }()
}
