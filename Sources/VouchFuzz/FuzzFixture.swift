import Crypto
import Foundation
import SwiftASN1
import VouchCore
import VouchKit
import X509

/// The fixed keys, names and clock the fuzz targets read inputs with.
///
/// A parser that only runs after a signature check (the claims of a telemetry envelope, a status
/// list credential) is fuzzed by signing each input with ``deviceKey`` first, so that the fuzzer
/// spends its time on what comes after the check. Every key is made from a fixed seed, so that
/// seeds written by `VouchFuzz --make-seeds` still verify in later runs.
enum FuzzFixture {
    /// The instant targets check times against: 2026-01-01T12:00:00Z. Seeds are valid then.
    static let now = Date(timeIntervalSince1970: 1_767_268_800)

    /// The device key that signs inputs before a target reads them (Ed25519, seed 01…01).
    static let deviceKey = try! SigningKey(ed25519Seed: [UInt8](repeating: 0x01, count: 32))
    /// The public half of ``deviceKey``.
    static let devicePublicKey = deviceKey.publicKey
    /// The header of a DPoP proof by ``deviceKey``, its public key in `jwk`.
    static let dpopHeader: JSONValue = [
        "typ": .string(DPoPProof.mediaType), "alg": "EdDSA",
        "jwk": ["kty": "OKP", "crv": "Ed25519", "x": .string(devicePublicKey.jwk.x ?? "")],
    ]
    /// The did:key DID of ``deviceKey``: the `iss` seeds use.
    static let deviceDID = DID(key: devicePublicKey)
    /// The DID URL of ``deviceKey``'s verification method: the `kid` of signed inputs.
    static let deviceKeyID = deviceDID.didKeyVerificationMethod.description

    /// The log's note signer (Ed25519, seed 02…02).
    static let logSigner = try! NoteSigner(
        name: "vouch.test/log", privateKey: Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x02, count: 32)))
    /// A witness (Ed25519, seed 03…03).
    static let witness = try! CosignatureSigner(
        name: "witness.test", privateKey: Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x03, count: 32)))

    /// A manufacturer's root (Ed25519, seed 04…04) that factory certificates are checked against.
    static let manufacturerKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x04, count: 32))
    static let manufacturerName = try! DistinguishedName {
        OrganizationName("Vouch Fuzz")
        CommonName("Manufacturer Root")
    }
    static let manufacturerRoot = try! Certificate(
        version: .v3,
        serialNumber: Certificate.SerialNumber(bytes: [0x01]),
        publicKey: Certificate.PublicKey(manufacturerKey.publicKey),
        notValidBefore: Date(timeIntervalSince1970: 1_735_689_600),  // 2025-01-01
        notValidAfter: Date(timeIntervalSince1970: 2_051_222_400),  // 2035-01-01
        issuer: manufacturerName,
        subject: manufacturerName,
        signatureAlgorithm: .ed25519,
        extensions: try! Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
        },
        issuerPrivateKey: Certificate.PrivateKey(manufacturerKey)
    )

    /// An authority (random keys, made once per process) that answers OCSP requests.
    static let authority = try! CertificateAuthority.bootstrap(name: "Vouch Fuzz", now: now).0

    /// The README's policy, which `policy-test-suite` inputs are run against.
    static let examplePolicy = """
        zones:
          line-3: {description: Assembly line 3}
          plant-ops: {}
        flows:
          - {from: line-3, to: plant-ops, allow: ["publish:telemetry/#"]}
        roles:
          sensor:
            allow:
              - publish:telemetry/${device.id}/#
              - subscribe:commands/${device.id}
              - read:firmware/${device.model}/*
            deny:
              - publish:telemetry/${device.id}/debug
          maintenance:
            statements:
              - effect: allow
                actions: [write]
                resources: ["config/${device.zone}/#"]
                conditions: {sourceAddresses: [10.0.0.0/8], timeOfDay: "06:00-22:00"}

        """

    /// Makes every value above now rather than on first use.
    static func prepare() {
        _ = (deviceKeyID, dpopHeader, logSigner, witness, manufacturerRoot, authority, FuzzTargets.examplePolicy)
    }

    /// `payload` as a compact JWS of type `type`, signed by ``deviceKey`` with `kid` ``deviceKeyID``.
    static func token(payload: some DataProtocol, type: String) -> String {
        token(payload: payload, header: ["alg": "EdDSA", "typ": .string(type), "kid": .string(deviceKeyID)])
    }

    /// `payload` as a compact JWS with `header`, signed by ``deviceKey``.
    static func token(payload: some DataProtocol, header: JSONValue) -> String {
        let signingInput = Base64URL.encode(header.canonicalJSON) + "." + Base64URL.encode(Array(payload))
        // Ed25519 signing of bytes in memory does not fail.
        let signature = try! deviceKey.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}
