import Foundation
import VouchKit

/// A nonce handed out (`POST /v1/enrollments/nonce`, `POST /v1/auth/challenge`).
public struct NonceResponse: Codable, Sendable {
    public var nonce: String
    public var expiresAt: Int

    public init(nonce: String, expiresAt: Int) {
        self.nonce = nonce
        self.expiresAt = expiresAt
    }
}

/// `POST /v1/enrollments`.
public struct EnrollmentRequest: Codable, Sendable {
    public struct Attestation: Codable, Sendable {
        /// The group's claim token (claim-token groups).
        public var claimToken: String?
        /// The factory certificate chain, leaf first, PEM (manufacturer-ca groups).
        public var certificateChain: [String]?
        /// The factory key's JWS-format signature, base64url, over `FactoryAttestation.message`: the
        /// label, the nonce, the group and the thumbprint of the CSR's key.
        public var signature: String?

        public init(claimToken: String? = nil, certificateChain: [String]? = nil, signature: String? = nil) {
            self.claimToken = claimToken
            self.certificateChain = certificateChain
            self.signature = signature
        }
    }

    public var nonce: String
    public var group: String
    /// PKCS#10 CSR, PEM.
    public var csr: String
    public var attributes: [String: String]?
    public var attestation: Attestation
    /// Proof of possession: a JWS (`typ` vouch-pop+jwt) by the device key, `kid` its did:key URL,
    /// payload `{"nonce": …, "group": …}`.
    public var proof: String
    /// The firmware the device runs: a signed envelope on topic `vouch/attestation/firmware`,
    /// answering `nonce`.
    public var measurement: String?

    public init(
        nonce: String, group: String, csr: String, attributes: [String: String]? = nil, attestation: Attestation, proof: String,
        measurement: String? = nil
    ) {
        self.nonce = nonce
        self.group = group
        self.csr = csr
        self.attributes = attributes
        self.attestation = attestation
        self.proof = proof
        self.measurement = measurement
    }
}

/// What an enrolled (or renewed, rotated, approved) device receives.
public struct EnrollmentBundle: Codable, Sendable {
    public var deviceId: String
    public var did: String
    public var state: String
    /// What the authority made of the firmware measurement sent with the request, if any.
    public var firmware: FirmwareVerdict?
    public var certificate: String?
    public var chain: String?
    public var identityCredential: String?
    public var roleCredentials: [String]
    public var trustBundle: String?
    /// Where the issuance is in the transparency log.
    public var log: IssuanceLog?

    public init(
        deviceId: String, did: String, state: String, firmware: FirmwareVerdict? = nil, certificate: String? = nil, chain: String? = nil,
        identityCredential: String? = nil, roleCredentials: [String] = [], trustBundle: String? = nil, log: IssuanceLog? = nil
    ) {
        self.deviceId = deviceId
        self.did = did
        self.state = state
        self.firmware = firmware
        self.certificate = certificate
        self.chain = chain
        self.identityCredential = identityCredential
        self.roleCredentials = roleCredentials
        self.trustBundle = trustBundle
        self.log = log
    }
}

/// The transparency-log entries of an issuance: the indexes of its `certificate.issued` and
/// `credential.issued` events, and (when a checkpoint covered them within the server's receipt
/// timeout) a receipt for each: entry, inclusion proof and signed checkpoint.
public struct IssuanceLog: Codable, Sendable {
    public var certificateIndex: UInt64
    public var credentialIndex: UInt64
    public var receipts: [LogReceipt]?

    public init(certificateIndex: UInt64, credentialIndex: UInt64, receipts: [LogReceipt]? = nil) {
        self.certificateIndex = certificateIndex
        self.credentialIndex = credentialIndex
        self.receipts = receipts
    }
}

/// `POST /v1/devices/self/rotate`.
public struct RotationRequest: Codable, Sendable {
    public var nonce: String
    /// PKCS#10 CSR of the new key, PEM.
    public var csr: String
    /// A `vouch-device+jwt` (purpose `rotate`) signed by the new key.
    public var proof: String
    /// The same payload signed by the current key.
    public var previousKeyProof: String
    /// A firmware measurement by the current key answering `nonce`: what a group that requires
    /// known-good firmware needs to issue.
    public var measurement: String?

    public init(nonce: String, csr: String, proof: String, previousKeyProof: String, measurement: String? = nil) {
        self.nonce = nonce
        self.csr = csr
        self.proof = proof
        self.previousKeyProof = previousKeyProof
        self.measurement = measurement
    }
}

/// `POST /v1/devices/self/renew` (the body is optional).
public struct RenewalRequest: Codable, Sendable {
    /// A nonce from `POST /v1/auth/challenge`, which `measurement` answers.
    public var nonce: String?
    /// A firmware measurement answering `nonce`: what a group that requires known-good firmware
    /// needs to issue.
    public var measurement: String?

    public init(nonce: String? = nil, measurement: String? = nil) {
        self.nonce = nonce
        self.measurement = measurement
    }
}

/// `POST /v1/auth/token`.
public struct TokenRequest: Codable, Sendable {
    public var nonce: String
    /// A `vouch-device+jwt` by the device key, purpose `authenticate`.
    public var proof: String
    /// A fresh firmware measurement envelope, required when the device was asked to step up.
    public var measurement: String?

    public init(nonce: String, proof: String, measurement: String? = nil) {
        self.nonce = nonce
        self.proof = proof
        self.measurement = measurement
    }
}

/// `POST /v1/auth/token`'s answer (RFC 6749 §5.1 names).
public struct TokenResponse: Codable, Sendable {
    public var access_token: String
    public var token_type: String
    public var expires_in: Int
    public var device_id: String

    public init(access_token: String, token_type: String, expires_in: Int, device_id: String) {
        self.access_token = access_token
        self.token_type = token_type
        self.expires_in = expires_in
        self.device_id = device_id
    }
}

/// `POST /v1/devices/self/attestation`.
public struct MeasurementBody: Codable, Sendable {
    /// A signed envelope on topic `vouch/attestation/firmware`.
    public var measurement: String
    /// A nonce from `POST /v1/auth/challenge` the measurement answers: needed to clear a step-up.
    public var nonce: String?

    public init(measurement: String, nonce: String? = nil) {
        self.measurement = measurement
        self.nonce = nonce
    }
}
