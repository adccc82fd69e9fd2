/// A JSON-LD property that may hold one value or an array of values.
struct OneOrMany<Element: Decodable & Sendable>: Decodable, Sendable {
    let values: [Element]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let many = try? container.decode([Element].self) {
            values = many
        } else {
            values = [try container.decode(Element.self)]
        }
    }
}

/// Decodes any JSON value and keeps only the fact that it was there.
struct Present: Decodable, Sendable {
    init(from decoder: any Decoder) throws {}
}

/// A JSON-LD node reference: a string id, or an object whose `id` is kept.
struct NodeReference: Decodable, Sendable {
    let id: String?

    private enum CodingKeys: String, CodingKey { case id }

    init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            id = text
        } else {
            id = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .id)
        }
    }
}

/// A JSON-LD `@context` entry: a URL string or an inline object (kept as `nil`).
struct ContextEntry: Decodable, Sendable {
    let url: String?

    init(from decoder: any Decoder) throws {
        url = try? decoder.singleValueContainer().decode(String.self)
    }
}
