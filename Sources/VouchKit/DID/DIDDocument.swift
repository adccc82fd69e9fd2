import Foundation

/// A DID document (W3C DID Core §5): the keys of a DID and what each may be used for.
public struct DIDDocument: Sendable, Hashable {
    /// The JSON-LD contexts.
    public var context: [String]
    /// The DID this document describes.
    public var id: String
    /// Controllers other than the DID itself.
    public var controller: [String]?
    /// Keys.
    public var verificationMethod: [VerificationMethod]
    /// Methods (by id) that may authenticate as the DID: challenge responses, presentations, telemetry.
    public var authentication: [String]
    /// Methods (by id) that may issue credentials.
    public var assertionMethod: [String]
    /// Methods (by id) for capability invocation.
    public var capabilityInvocation: [String]?
    /// Methods (by id) for capability delegation.
    public var capabilityDelegation: [String]?
    /// Methods (by id) for key agreement.
    public var keyAgreement: [String]?
    /// Service endpoints, kept as JSON.
    public var service: [JSONValue]?

    /// A purpose a verification method is used for.
    public enum Relationship: String, Sendable, CaseIterable {
        /// `authentication`.
        case authentication
        /// `assertionMethod`.
        case assertionMethod
    }

    /// Creates a document.
    public init(
        context: [String] = ["https://www.w3.org/ns/did/v1"], id: String, controller: [String]? = nil,
        verificationMethod: [VerificationMethod], authentication: [String], assertionMethod: [String],
        capabilityInvocation: [String]? = nil, capabilityDelegation: [String]? = nil, keyAgreement: [String]? = nil,
        service: [JSONValue]? = nil
    ) {
        self.context = context
        self.id = id
        self.controller = controller
        self.verificationMethod = verificationMethod
        self.authentication = authentication
        self.assertionMethod = assertionMethod
        self.capabilityInvocation = capabilityInvocation
        self.capabilityDelegation = capabilityDelegation
        self.keyAgreement = keyAgreement
        self.service = service
    }

    /// Parses a DID document from JSON.
    public init(json: some DataProtocol) throws {
        do {
            self = try JSONDecoder().decode(DIDDocument.self, from: Data(json))
        } catch {
            throw VouchKitError.malformedInput("not a DID document: \(error)")
        }
    }

    /// Serialises as JSON.
    public func jsonData(pretty: Bool = true) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// Makes a relative method id (`#key-1`) absolute against this document's DID.
    func absolute(_ reference: String) -> String {
        reference.hasPrefix("#") ? id + reference : reference
    }

    /// The key of method `methodID` (absolute DID URL), provided the method is listed for `relationship`.
    public func publicKey(for methodID: String, relationship: Relationship) throws -> PublicKey {
        let allowed = (relationship == .authentication ? authentication : assertionMethod).map(absolute)
        guard allowed.contains(methodID) else {
            throw VouchKitError.malformedInput("\(methodID) is not listed under \(relationship.rawValue) of \(id)")
        }
        guard let method = verificationMethod.first(where: { absolute($0.id) == methodID }) else {
            throw VouchKitError.malformedInput("\(id) has no verification method \(methodID)")
        }
        return try method.publicKey()
    }
}

extension DIDDocument: Codable {
    private enum CodingKeys: String, CodingKey {
        case context = "@context"
        case id, controller, verificationMethod, authentication, assertionMethod
        case capabilityInvocation, capabilityDelegation, keyAgreement, service
    }

    /// An entry of a relationship: a reference or an embedded method.
    private enum Reference: Decodable {
        case id(String)
        case embedded(VerificationMethod)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let id = try? container.decode(String.self) {
                self = .id(id)
            } else {
                self = .embedded(try container.decode(VerificationMethod.self))
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let contexts = try? container.decode([JSONValue].self, forKey: .context) {
            context = contexts.compactMap(\.stringValue)
        } else {
            context = [try container.decode(String.self, forKey: .context)]
        }
        id = try container.decode(String.self, forKey: .id)
        guard (try? DID(id)) != nil else {
            throw DecodingError.dataCorruptedError(forKey: .id, in: container, debugDescription: "id \(id) is not a DID")
        }
        if let single = try? container.decode(String.self, forKey: .controller) {
            controller = [single]
        } else {
            controller = try container.decodeIfPresent([String].self, forKey: .controller)
        }
        var methods = try container.decodeIfPresent([VerificationMethod].self, forKey: .verificationMethod) ?? []
        func relationship(_ key: CodingKeys) throws -> [String]? {
            guard let references = try container.decodeIfPresent([Reference].self, forKey: key) else { return nil }
            return references.map { reference in
                switch reference {
                case .id(let id): return id
                case .embedded(let method):
                    methods.append(method)
                    return method.id
                }
            }
        }
        authentication = try relationship(.authentication) ?? []
        assertionMethod = try relationship(.assertionMethod) ?? []
        capabilityInvocation = try relationship(.capabilityInvocation)
        capabilityDelegation = try relationship(.capabilityDelegation)
        keyAgreement = try relationship(.keyAgreement)
        verificationMethod = methods
        service = try container.decodeIfPresent([JSONValue].self, forKey: .service)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(context, forKey: .context)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(controller, forKey: .controller)
        try container.encode(verificationMethod, forKey: .verificationMethod)
        try container.encode(authentication, forKey: .authentication)
        try container.encode(assertionMethod, forKey: .assertionMethod)
        try container.encodeIfPresent(capabilityInvocation, forKey: .capabilityInvocation)
        try container.encodeIfPresent(capabilityDelegation, forKey: .capabilityDelegation)
        try container.encodeIfPresent(keyAgreement, forKey: .keyAgreement)
        try container.encodeIfPresent(service, forKey: .service)
    }
}

extension DIDDocument {
    /// The did:key document of a DID: one `Multikey` verification method, usable for authentication,
    /// assertion, capability invocation and delegation.
    public init(didKey did: DID) throws {
        let key = try did.didKeyPublicKey()
        let methodID = did.didKeyVerificationMethod.description
        self.init(
            context: ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            id: did.description,
            verificationMethod: [VerificationMethod(id: methodID, controller: did.description, multikey: key)],
            authentication: [methodID],
            assertionMethod: [methodID],
            capabilityInvocation: [methodID],
            capabilityDelegation: [methodID]
        )
    }

    /// A did:web document listing `keys` as `JsonWebKey` methods `#<thumbprint>`, each usable for
    /// authentication and assertion.
    public init(didWeb did: DID, keys: [PublicKey]) throws {
        guard did.method == "web" else { throw VouchKitError.malformedInput("\(did) is not a did:web DID") }
        let methods = keys.map { key in
            VerificationMethod(id: "\(did)#\(key.thumbprint)", controller: did.description, jsonWebKey: key)
        }
        self.init(
            context: ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
            id: did.description,
            verificationMethod: methods,
            authentication: methods.map(\.id),
            assertionMethod: methods.map(\.id)
        )
    }
}
