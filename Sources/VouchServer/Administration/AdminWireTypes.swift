import Foundation
import VouchCore
import VouchKit

// The admin API's request and response bodies.

struct CreateAPIKey: Codable, Sendable {
    var name: String
    var scope: APIScope?
}

struct CreatedAPIKey: Codable, Sendable {
    var id: String
    var name: String
    var scope: String
    var createdAt: Int
    /// Shown once.
    var secret: String
}

struct APIKeyView: Codable, Sendable {
    var id: String
    var name: String
    var scope: String
    var createdAt: Int
    var revokedAt: Int?
}

/// A group as created or updated: the rules, plus for claim-token groups a new token (shown once).
struct GroupRequest: Codable, Sendable {
    var name: String?
    var attestation: AttestationMode?
    /// A positive number, or nil with `unlimitedTokenUses` for no limit.
    var tokenUses: Int?
    var unlimitedTokenUses: Bool?
    var tokenExpiresAt: Int?
    var manufacturerRoots: [String]?
    var allowedKeyTypes: [SigningKey.KeyType]?
    var requiredAttributes: [String]?
    var defaultZone: String?
    var defaultRoles: [String]?
    var approval: ApprovalMode?
    var certificateValidity: Int?
    var credentialValidity: Int?
    var requireKnownFirmware: Bool?
    var devicesPerFactoryCertificate: Int?
    var manufacturerCRLs: [String]?
    var certificateProfile: CertificateProfile?
    var rotateToken: Bool?

    func rules(over base: EnrollmentRules) -> EnrollmentRules {
        var rules = base
        if let attestation { rules.attestation = attestation }
        if unlimitedTokenUses == true {
            rules.tokenUses = nil
        } else if let tokenUses {
            rules.tokenUses = tokenUses
        }
        if let tokenExpiresAt { rules.tokenExpiresAt = tokenExpiresAt }
        if let manufacturerRoots { rules.manufacturerRoots = manufacturerRoots }
        if let allowedKeyTypes { rules.allowedKeyTypes = allowedKeyTypes }
        if let requiredAttributes { rules.requiredAttributes = requiredAttributes }
        if let defaultZone { rules.defaultZone = defaultZone }
        if let defaultRoles { rules.defaultRoles = defaultRoles }
        if let approval { rules.approval = approval }
        if let certificateValidity { rules.certificateValidity = certificateValidity }
        if let credentialValidity { rules.credentialValidity = credentialValidity }
        if let requireKnownFirmware { rules.requireKnownFirmware = requireKnownFirmware }
        if let devicesPerFactoryCertificate { rules.devicesPerFactoryCertificate = devicesPerFactoryCertificate }
        if let manufacturerCRLs { rules.manufacturerCRLs = manufacturerCRLs }
        if let certificateProfile { rules.certificateProfile = certificateProfile }
        return rules
    }
}

struct GroupResponse: Codable, Sendable {
    var group: GroupView
    var claimToken: String?
}

struct DevicePage: Codable, Sendable {
    var devices: [DeviceView]
    /// Pass as `after` for the next page; absent on the last page.
    var next: String?
}

struct ActionRequest: Codable, Sendable {
    var reason: String?
}

struct ActionResponse: Codable, Sendable {
    var device: DeviceView
    var enrollment: EnrollmentBundle?
}

struct EventView: Codable, Sendable {
    var seq: Int
    var at: Int
    var kind: String
    var subject: String
    var actor: String
    var data: JSONValue
}

struct EventPage: Codable, Sendable {
    var events: [EventView]
    var last: Int
}
