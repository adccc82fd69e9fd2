/// A `credentialStatus` entry of type `BitstringStatusListEntry` (W3C Bitstring Status List v1.0 §2.1).
public struct CredentialStatusEntry: Codable, Sendable, Hashable {
    /// Optional id of the entry, conventionally `<list URL>#<index>`.
    public var id: String?
    /// `BitstringStatusListEntry`.
    public var type: String
    /// `revocation` or `suspension`.
    public var statusPurpose: String
    /// The bit index, as a decimal string.
    public var statusListIndex: String
    /// The URL of the `BitstringStatusListCredential`.
    public var statusListCredential: String

    /// An entry pointing at bit `index` of the list credential at `listURL`.
    public init(listURL: String, index: Int, purpose: StatusPurpose = .revocation) {
        self.id = "\(listURL)#\(index)"
        self.type = "BitstringStatusListEntry"
        self.statusPurpose = purpose.rawValue
        self.statusListIndex = String(index)
        self.statusListCredential = listURL
    }

    private enum CodingKeys: String, CodingKey {
        case id, type, statusPurpose, statusListIndex, statusListCredential
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        type = try container.decode(String.self, forKey: .type)
        statusPurpose = try container.decodeIfPresent(String.self, forKey: .statusPurpose) ?? ""
        if let number = try? container.decode(Int.self, forKey: .statusListIndex) {
            statusListIndex = String(number)
        } else {
            statusListIndex = try container.decodeIfPresent(String.self, forKey: .statusListIndex) ?? ""
        }
        statusListCredential = try container.decodeIfPresent(String.self, forKey: .statusListCredential) ?? ""
    }

    /// The entry as JSON, as `encode(to:)` writes it.
    var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "type": .string(type), "statusPurpose": .string(statusPurpose), "statusListIndex": .string(statusListIndex),
            "statusListCredential": .string(statusListCredential),
        ]
        if let id { members["id"] = .string(id) }
        return .object(members)
    }

    /// The index as a number, when it is a non-negative decimal.
    public var index: Int? {
        guard !statusListIndex.isEmpty, statusListIndex.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(statusListIndex)
    }
}

extension CredentialStatusEntry {
    /// Reads an entry with the one-pass JSON reader.
    init(scanning scanner: inout JSONScanner) throws {
        var id: String?
        var type: String?
        var purpose: String?
        var index: String?
        var list: String?
        try scanner.readObject { scanner, key in
            switch key {
            case "id": try JSONScanner.once(id != nil, key, in: "a credentialStatus entry"); id = try scanner.readString()
            case "type": try JSONScanner.once(type != nil, key, in: "a credentialStatus entry"); type = try scanner.readString()
            case "statusPurpose": try JSONScanner.once(purpose != nil, key, in: "a credentialStatus entry"); purpose = try scanner.readString()
            case "statusListIndex":
                try JSONScanner.once(index != nil, key, in: "a credentialStatus entry")
                index = scanner.peekValue() == UInt8(ascii: "\"") ? try scanner.readString() : String(try scanner.readUnsignedInteger())
            case "statusListCredential": try JSONScanner.once(list != nil, key, in: "a credentialStatus entry"); list = try scanner.readString()
            default: try scanner.skipValue()
            }
        }
        guard let type else { throw JSONScanner.error("a credentialStatus entry has no type") }
        self.id = id
        self.type = type
        self.statusPurpose = purpose ?? ""
        self.statusListIndex = index ?? ""
        self.statusListCredential = list ?? ""
    }
}
