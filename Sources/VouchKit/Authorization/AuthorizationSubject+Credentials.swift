extension AuthorizationSubject {
    /// The credential type that carries a device's capabilities for one role.
    public static let roleCredentialType = "DeviceRoleCredential"

    /// The subject described by a verified presentation's role credentials, for deciding offline.
    ///
    /// Verify the presentation first (signature, freshness, nonce, holder binding, and each
    /// credential's issuer and status): this reads claims, it checks no signature. Every role
    /// credential must name the same device and zone; their statements are pooled. Credentials
    /// issued before the authority had a policy carry no statements and allow nothing.
    public init(verified presentation: VerifiedPresentation) throws(AuthorizationError) {
        try self.init(roleCredentials: presentation.credentials.filter { $0.types.contains(Self.roleCredentialType) })
    }

    /// The subject described by role credentials that have been verified.
    public init(roleCredentials: [Credential]) throws(AuthorizationError) {
        guard !roleCredentials.isEmpty else {
            throw AuthorizationError.invalidCredential("the presentation holds no \(Self.roleCredentialType), so it grants nothing")
        }
        var device: String?
        var zone: String?
        var statements: [PolicyStatement] = []
        var notes: [String] = []
        for credential in roleCredentials {
            let subject = credential.json["credentialSubject"]
            guard let deviceID = subject?["deviceId"]?.stringValue, let role = subject?["role"]?.stringValue,
                let credentialZone = subject?["zone"]?.stringValue
            else {
                throw AuthorizationError.invalidCredential("a role credential must name deviceId, role and zone in its credentialSubject")
            }
            guard device == nil || device == deviceID, zone == nil || zone == credentialZone else {
                throw AuthorizationError.invalidCredential("the role credentials name different devices or zones")
            }
            device = deviceID
            zone = credentialZone
            guard case .array(let capabilities)? = subject?["capabilities"] else {
                notes.append("the credential for role \(role) carries no capabilities (issued before a policy defined them); renew it")
                continue
            }
            for capability in capabilities {
                do {
                    statements.append(try PolicyStatement(json: capability))
                } catch {
                    throw AuthorizationError.invalidCredential("the credential for role \(role) carries an unusable statement: \(error.reason)")
                }
            }
        }
        self.init(device: device ?? "", zone: zone ?? ZoneRules.defaultZone, statements: statements, notes: notes)
    }
}
