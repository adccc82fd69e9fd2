import Foundation
import VouchKit

/// How devices of a group prove they belong to it.
public enum AttestationMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// A shared secret handed to the device at provisioning: single-use, N-use or unlimited, with an expiry.
    case claimToken = "claim-token"
    /// A factory certificate chaining to one of the group's manufacturer roots, plus its signature over the nonce.
    case manufacturerCA = "manufacturer-ca"
}

/// What a device certificate's subject alternative names hold.
public enum CertificateProfile: String, Sendable, Hashable, Codable, CaseIterable {
    /// Two URIs: the device's did:key, then its SPIFFE ID (`spiffe://<trust domain>/device/<id>`).
    case vouch
    /// A SPIFFE X509-SVID: exactly one URI SAN, the SPIFFE ID, as SPIFFE workloads and their
    /// libraries require (the DID travels in the credentials instead).
    case spiffeSVID = "spiffe-svid"
}

/// Whether an operator must approve new devices.
public enum ApprovalMode: String, Sendable, Hashable, Codable, CaseIterable {
    case auto, manual
}

/// The rules of an enrollment group. Identity (id, name) and the claim token's secret and remaining
/// uses live beside it in storage; this is what an operator configures.
public struct EnrollmentRules: Sendable, Hashable, Codable {
    public var attestation: AttestationMode
    /// nil means unlimited; otherwise the number of enrollments the claim token allows in all.
    public var tokenUses: Int?
    /// When the claim token stops working (seconds since 1970), if ever.
    public var tokenExpiresAt: Int?
    /// PEM roots that factory certificates must chain to (manufacturer-ca mode).
    public var manufacturerRoots: [String]
    public var allowedKeyTypes: [SigningKey.KeyType]
    public var requiredAttributes: [String]
    public var defaultZone: String
    public var defaultRoles: [String]
    public var approval: ApprovalMode
    /// Device certificate lifetime, seconds.
    public var certificateValidity: Int
    /// Identity and role credential lifetime, seconds.
    public var credentialValidity: Int
    /// Whether a device renews only while its latest firmware measurement is known-good (nil: no).
    public var requireKnownFirmware: Bool?
    /// How many standing devices one factory certificate may vouch for (manufacturer-ca mode;
    /// nil: one). A device revoked or decommissioned no longer counts.
    public var devicesPerFactoryCertificate: Int?
    /// CRLs (PEM) of the manufacturer's CAs: a factory chain with a certificate they list is
    /// refused, and so is one whose issuer's CRL here is out of date (manufacturer-ca mode).
    public var manufacturerCRLs: [String]?
    /// What device certificates hold (nil: `vouch`).
    public var certificateProfile: CertificateProfile?

    public init(
        attestation: AttestationMode = .claimToken,
        tokenUses: Int? = 1,
        tokenExpiresAt: Int? = nil,
        manufacturerRoots: [String] = [],
        allowedKeyTypes: [SigningKey.KeyType] = SigningKey.KeyType.allCases,
        requiredAttributes: [String] = [],
        defaultZone: String = "default",
        defaultRoles: [String] = [],
        approval: ApprovalMode = .auto,
        certificateValidity: Int = 30 * 86_400,
        credentialValidity: Int = 30 * 86_400,
        requireKnownFirmware: Bool? = nil
    ) {
        self.requireKnownFirmware = requireKnownFirmware
        self.attestation = attestation
        self.tokenUses = tokenUses
        self.tokenExpiresAt = tokenExpiresAt
        self.manufacturerRoots = manufacturerRoots
        self.allowedKeyTypes = allowedKeyTypes
        self.requiredAttributes = requiredAttributes
        self.defaultZone = defaultZone
        self.defaultRoles = defaultRoles
        self.approval = approval
        self.certificateValidity = certificateValidity
        self.credentialValidity = credentialValidity
    }

    /// Every problem with these rules, as sentences; empty when they are usable.
    public var problems: [String] {
        var problems: [String] = []
        if let uses = tokenUses, uses < 1 {
            problems.append("token uses must be at least 1, or unlimited")
        }
        if let limit = devicesPerFactoryCertificate, !(1...1_000_000).contains(limit) {
            problems.append("devicesPerFactoryCertificate must be between 1 and 1000000")
        }
        for (index, crl) in (manufacturerCRLs ?? []).enumerated() {
            do {
                _ = try RevocationListReader(pemOrDER: crl)
            } catch {
                problems.append("manufacturerCRLs[\(index)] is not a usable CRL: \(error)")
            }
        }
        if let expiry = tokenExpiresAt, !(0...Int(NumericDate.latest)).contains(expiry) {
            problems.append("tokenExpiresAt must be seconds since 1970, up to \(Int(NumericDate.latest)) (year 9999)")
        }
        if attestation == .manufacturerCA && manufacturerRoots.isEmpty {
            problems.append("a manufacturer-ca group needs at least one manufacturer root certificate (PEM)")
        }
        if allowedKeyTypes.isEmpty {
            problems.append("allow at least one key type (ed25519, p256)")
        }
        if !Self.isName(defaultZone) {
            problems.append("the default zone must be 1–64 characters of a–z, 0–9, '-', '_' or '.'")
        }
        for role in defaultRoles where !Self.isName(role) {
            problems.append("role \"\(role.prefix(64))\" must be 1–64 characters of a–z, 0–9, '-', '_' or '.'")
        }
        for attribute in requiredAttributes where !Self.isName(attribute) {
            problems.append("required attribute \"\(attribute.prefix(64))\" must be 1–64 characters of a–z, 0–9, '-', '_' or '.'")
        }
        if !(300...(397 * 86_400)).contains(certificateValidity) {
            problems.append("certificate validity must be between 300 seconds and 397 days")
        }
        if !(300...(397 * 86_400)).contains(credentialValidity) {
            problems.append("credential validity must be between 300 seconds and 397 days")
        }
        return problems
    }

    /// Names of groups, zones, roles and attributes: lower-case ASCII letters, digits, `-`, `_`, `.`.
    public static func isName(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= 64
            && value.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
    }

    /// Problems with a device's attributes under these rules: missing required ones, oversized values.
    public func attributeProblems(_ attributes: [String: String]) -> [String] {
        var problems: [String] = []
        for key in requiredAttributes where (attributes[key] ?? "").isEmpty {
            problems.append("attribute \"\(key)\" is required by this group")
        }
        if attributes.count > 32 {
            problems.append("at most 32 attributes")
        }
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
            if !Self.isName(key) {
                problems.append("attribute name \"\(key.prefix(64))\" must be 1–64 characters of a–z, 0–9, '-', '_' or '.'")
            } else if value.utf8.count > 256 || value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                problems.append("attribute \"\(key)\" must be at most 256 bytes without control characters")
            }
        }
        return problems
    }
}
