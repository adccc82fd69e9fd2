/// Rows as stored. Column names are the snake_case of the property names. Times are whole seconds
/// since 1970; JSON columns hold canonical JSON text.

package struct APIKeyRow: Codable, Sendable, Hashable {
    package var id: String
    package var name: String
    package var scope: String
    package var secretHash: String
    package var createdAt: Int
    package var revokedAt: Int?

    package init(id: String, name: String, scope: String, secretHash: String, createdAt: Int, revokedAt: Int? = nil) {
        self.id = id
        self.name = name
        self.scope = scope
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

package struct GroupRow: Codable, Sendable, Hashable {
    package var id: String
    package var name: String
    package var tokenHash: String?
    /// nil: unlimited (or no token).
    package var tokenUsesLeft: Int?
    /// `EnrollmentRules` as JSON.
    package var settings: String
    package var disabled: Int
    package var createdAt: Int
    package var updatedAt: Int

    package init(
        id: String, name: String, tokenHash: String?, tokenUsesLeft: Int?, settings: String, disabled: Int,
        createdAt: Int, updatedAt: Int
    ) {
        self.id = id
        self.name = name
        self.tokenHash = tokenHash
        self.tokenUsesLeft = tokenUsesLeft
        self.settings = settings
        self.disabled = disabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

package struct DeviceRow: Codable, Sendable, Hashable {
    package var id: String
    package var groupId: String
    package var zone: String
    package var state: String
    package var did: String
    package var keyThumbprint: String
    /// The public JWK.
    package var publicKey: String
    /// `{String: String}` as JSON.
    package var attributes: String
    /// `[String]` as JSON.
    package var roles: String
    /// `[String]` as JSON: DIDs the device had before key rotations, oldest first.
    package var previousDids: String
    package var createdAt: Int
    package var updatedAt: Int

    package init(
        id: String, groupId: String, zone: String, state: String, did: String, keyThumbprint: String,
        publicKey: String, attributes: String, roles: String, previousDids: String, createdAt: Int, updatedAt: Int
    ) {
        self.id = id
        self.groupId = groupId
        self.zone = zone
        self.state = state
        self.did = did
        self.keyThumbprint = keyThumbprint
        self.publicKey = publicKey
        self.attributes = attributes
        self.roles = roles
        self.previousDids = previousDids
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

package struct CertificateRow: Codable, Sendable, Hashable {
    /// Lower-case hex of the serial number's bytes.
    package var serial: String
    package var deviceId: String
    package var pem: String
    package var notBefore: Int
    package var notAfter: Int
    package var revokedAt: Int?
    /// RFC 5280 reason code.
    package var reason: Int?
    /// The transparency-log index of the `certificate.issued` event (nil before migration 0005).
    package var logIndex: Int?

    package init(
        serial: String, deviceId: String, pem: String, notBefore: Int, notAfter: Int, revokedAt: Int? = nil, reason: Int? = nil,
        logIndex: Int? = nil
    ) {
        self.logIndex = logIndex
        self.serial = serial
        self.deviceId = deviceId
        self.pem = pem
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.revokedAt = revokedAt
        self.reason = reason
    }
}

package struct CredentialRow: Codable, Sendable, Hashable {
    package var id: String
    package var deviceId: String
    package var type: String
    package var token: String
    package var statusIndex: Int
    package var issuedAt: Int
    package var expiresAt: Int
    /// The transparency-log index of the `credential.issued` event (nil before migration 0005).
    package var logIndex: Int?

    package init(
        id: String, deviceId: String, type: String, token: String, statusIndex: Int, issuedAt: Int, expiresAt: Int, logIndex: Int? = nil
    ) {
        self.logIndex = logIndex
        self.id = id
        self.deviceId = deviceId
        self.type = type
        self.token = token
        self.statusIndex = statusIndex
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

package struct EventRow: Codable, Sendable, Hashable {
    package var seq: Int
    package var at: Int
    package var kind: String
    package var subject: String
    package var actor: String
    /// Details as a JSON object.
    package var data: String

    package init(seq: Int, at: Int, kind: String, subject: String, actor: String, data: String) {
        self.seq = seq
        self.at = at
        self.kind = kind
        self.subject = subject
        self.actor = actor
        self.data = data
    }
}

package struct PolicyRow: Codable, Sendable, Hashable {
    package var version: Int
    /// The document as uploaded.
    package var source: String
    /// Lower-case hex SHA-256 of the source's UTF-8.
    package var digest: String
    package var createdAt: Int
    package var actor: String

    package init(version: Int, source: String, digest: String, createdAt: Int, actor: String) {
        self.version = version
        self.source = source
        self.digest = digest
        self.createdAt = createdAt
        self.actor = actor
    }
}

package struct FirmwareRow: Codable, Sendable, Hashable {
    /// Lower-case hex SHA-256 of the image.
    package var digest: String
    package var model: String
    package var version: String
    /// `good` or `revoked`.
    package var status: String
    package var createdAt: Int
    package var updatedAt: Int

    package init(digest: String, model: String, version: String, status: String, createdAt: Int, updatedAt: Int) {
        self.digest = digest
        self.model = model
        self.version = version
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

package struct DeviceFirmwareRow: Codable, Sendable, Hashable {
    package var deviceId: String
    package var digest: String
    package var version: String
    /// `good`, `unknown` or `revoked`.
    package var status: String
    /// `enrollment`, `renewal` or `boot`.
    package var phase: String
    package var reportedAt: Int

    package init(deviceId: String, digest: String, version: String, status: String, phase: String, reportedAt: Int) {
        self.deviceId = deviceId
        self.digest = digest
        self.version = version
        self.status = status
        self.phase = phase
        self.reportedAt = reportedAt
    }
}

/// A step-up a response rule asked of a device.
package struct StepUpRow: Codable, Sendable, Hashable {
    package var deviceId: String
    package var requiredAt: Int
    package var cause: String
}
