import Foundation

/// Locates the official test vectors copied into this target's resources.
enum Vectors {
    static var root: URL {
        Bundle.module.url(forResource: "Vectors", withExtension: nil)!
    }

    static func url(_ path: String) -> URL {
        root.appendingPathComponent(path)
    }

    static func data(_ path: String) throws -> Data {
        try Data(contentsOf: url(path))
    }

    static func text(_ path: String) throws -> String {
        String(decoding: try data(path), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func json(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: try data(path))
    }
}
