import Crypto
import Foundation
import Logging
import SwiftASN1
import Synchronization
import VouchCore
import VouchKit
import VouchStore
import X509

/// `POST /v1/enrollments`.
struct EnrollmentRequest: Codable, Sendable {
    struct Attestation: Codable, Sendable {
        /// The group's claim token (claim-token groups).
        var claimToken: String?
        /// The factory certificate chain, leaf first, PEM (manufacturer-ca groups).
        var certificateChain: [String]?
        /// The factory key's JWS-format signature, base64url, over `FactoryAttestation.message`: the
        /// label, the nonce, the group and the thumbprint of the CSR's key.
        var signature: String?
    }

    var nonce: String
    var group: String
    /// PKCS#10 CSR, PEM.
    var csr: String
    var attributes: [String: String]?
    var attestation: Attestation
    /// Proof of possession: a JWS (`typ` vouch-pop+jwt) by the device key, `kid` its did:key URL,
    /// payload `{"nonce": …, "group": …}`.
    var proof: String
    /// The firmware the device runs: a signed envelope on topic `vouch/attestation/firmware`,
    /// answering `nonce`.
    var measurement: String?
}

/// What an enrolled (or renewed, rotated, approved) device receives.
struct EnrollmentBundle: Codable, Sendable {
    var deviceId: String
    var did: String
    var state: String
    /// What the authority made of the firmware measurement sent with the request, if any.
    var firmware: FirmwareVerdict?
    var certificate: String?
    var chain: String?
    var identityCredential: String?
    var roleCredentials: [String]
    var trustBundle: String?
    /// Where the issuance is in the transparency log.
    var log: IssuanceLog?
}

/// The transparency-log entries of an issuance: the indexes of its `certificate.issued` and
/// `credential.issued` events, and (when a checkpoint covered them within the server's receipt
/// timeout) a receipt for each: entry, inclusion proof and signed checkpoint.
struct IssuanceLog: Codable, Sendable {
    var certificateIndex: UInt64
    var credentialIndex: UInt64
    var receipts: [LogReceipt]?
}
