import Foundation
import VouchCore
import VouchKit

/// `POST /v1/admin/api-keys`.
public struct CreateAPIKey: Codable, Sendable {
    public var name: String
    public var scope: APIScope?

    public init(name: String, scope: APIScope? = nil) {
        self.name = name
        self.scope = scope
    }
}

/// `POST /v1/admin/api-keys`'s answer.
public struct CreatedAPIKey: Codable, Sendable {
    public var id: String
    public var name: String
    public var scope: String
    public var createdAt: Int
    /// Shown once.
    public var secret: String

    public init(id: String, name: String, scope: String, createdAt: Int, secret: String) {
        self.id = id
        self.name = name
        self.scope = scope
        self.createdAt = createdAt
        self.secret = secret
    }
}

/// An API key as the admin API shows it (never its secret).
public struct APIKeyView: Codable, Sendable {
    public var id: String
    public var name: String
    public var scope: String
    public var createdAt: Int
    public var revokedAt: Int?

    public init(id: String, name: String, scope: String, createdAt: Int, revokedAt: Int? = nil) {
        self.id = id
        self.name = name
        self.scope = scope
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// A group as created or updated: the rules, plus for claim-token groups a new token (shown once).
/// Absent members keep what the group has (or the defaults, for a new group).
public struct GroupRequest: Codable, Sendable {
    public var name: String?
    public var attestation: AttestationMode?
    /// A positive number, or nil with `unlimitedTokenUses` for no limit.
    public var tokenUses: Int?
    public var unlimitedTokenUses: Bool?
    public var tokenExpiresAt: Int?
    public var manufacturerRoots: [String]?
    public var allowedKeyTypes: [SigningKey.KeyType]?
    public var requiredAttributes: [String]?
    public var defaultZone: String?
    public var defaultRoles: [String]?
    public var approval: ApprovalMode?
    public var certificateValidity: Int?
    public var credentialValidity: Int?
    public var requireKnownFirmware: Bool?
    public var devicesPerFactoryCertificate: Int?
    public var manufacturerCRLs: [String]?
    public var certificateProfile: CertificateProfile?
    public var rotateToken: Bool?

    public init(
        name: String? = nil, attestation: AttestationMode? = nil, tokenUses: Int? = nil, unlimitedTokenUses: Bool? = nil, tokenExpiresAt: Int? = nil,
        manufacturerRoots: [String]? = nil, allowedKeyTypes: [SigningKey.KeyType]? = nil, requiredAttributes: [String]? = nil,
        defaultZone: String? = nil, defaultRoles: [String]? = nil, approval: ApprovalMode? = nil, certificateValidity: Int? = nil,
        credentialValidity: Int? = nil, requireKnownFirmware: Bool? = nil, devicesPerFactoryCertificate: Int? = nil,
        manufacturerCRLs: [String]? = nil, certificateProfile: CertificateProfile? = nil, rotateToken: Bool? = nil
    ) {
        self.name = name
        self.attestation = attestation
        self.tokenUses = tokenUses
        self.unlimitedTokenUses = unlimitedTokenUses
        self.tokenExpiresAt = tokenExpiresAt
        self.manufacturerRoots = manufacturerRoots
        self.allowedKeyTypes = allowedKeyTypes
        self.requiredAttributes = requiredAttributes
        self.defaultZone = defaultZone
        self.defaultRoles = defaultRoles
        self.approval = approval
        self.certificateValidity = certificateValidity
        self.credentialValidity = credentialValidity
        self.requireKnownFirmware = requireKnownFirmware
        self.devicesPerFactoryCertificate = devicesPerFactoryCertificate
        self.manufacturerCRLs = manufacturerCRLs
        self.certificateProfile = certificateProfile
        self.rotateToken = rotateToken
    }

    /// The rules `base` becomes with this request's members applied.
    public func rules(over base: EnrollmentRules) -> EnrollmentRules {
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

/// An enrollment group as the API shows it.
public struct GroupView: Codable, Sendable {
    public var id: String
    public var name: String
    public var disabled: Bool
    public var tokenUsesLeft: Int?
    public var rules: EnrollmentRules
    public var createdAt: Int
    public var updatedAt: Int

    public init(id: String, name: String, disabled: Bool, tokenUsesLeft: Int?, rules: EnrollmentRules, createdAt: Int, updatedAt: Int) {
        self.id = id
        self.name = name
        self.disabled = disabled
        self.tokenUsesLeft = tokenUsesLeft
        self.rules = rules
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A group created or updated, with its new claim token (shown once).
public struct GroupResponse: Codable, Sendable {
    public var group: GroupView
    public var claimToken: String?

    public init(group: GroupView, claimToken: String? = nil) {
        self.group = group
        self.claimToken = claimToken
    }
}

/// One page of `GET /v1/admin/devices`.
public struct DevicePage: Codable, Sendable {
    public var devices: [DeviceView]
    /// Pass as `after` for the next page; absent on the last page.
    public var next: String?

    public init(devices: [DeviceView], next: String? = nil) {
        self.devices = devices
        self.next = next
    }
}

/// `POST /v1/admin/devices/{id}/{action}`.
public struct ActionRequest: Codable, Sendable {
    public var reason: String?

    public init(reason: String? = nil) {
        self.reason = reason
    }
}

/// A lifecycle action's answer: the device, and what an approval issued.
public struct ActionResponse: Codable, Sendable {
    public var device: DeviceView
    public var enrollment: EnrollmentBundle?

    public init(device: DeviceView, enrollment: EnrollmentBundle? = nil) {
        self.device = device
        self.enrollment = enrollment
    }
}

/// One event of `GET /v1/events`.
public struct EventView: Codable, Sendable {
    public var seq: Int
    public var at: Int
    public var kind: String
    public var subject: String
    public var actor: String
    public var data: JSONValue

    public init(seq: Int, at: Int, kind: String, subject: String, actor: String, data: JSONValue) {
        self.seq = seq
        self.at = at
        self.kind = kind
        self.subject = subject
        self.actor = actor
        self.data = data
    }
}

/// One page of `GET /v1/events`.
public struct EventPage: Codable, Sendable {
    public var events: [EventView]
    public var last: Int

    public init(events: [EventView], last: Int) {
        self.events = events
        self.last = last
    }
}
