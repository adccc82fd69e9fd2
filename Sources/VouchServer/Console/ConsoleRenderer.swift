import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import VouchKit

/// The console's templates and static files, read once at start from the server's resources.
/// Static files are served under a name holding their content's hash, so browsers keep them for a
/// year and a new version is a new name.
struct ConsoleRenderer: Sendable {
    struct Asset: Sendable {
        var body: ByteBuffer
        var contentType: String
    }

    let library: MustacheLibrary
    /// Static files by their served name (`console.1a2b3c4d5e6f.css`).
    let assets: [String: Asset]
    let stylesheet: String
    let script: String

    /// The Content-Security-Policy of every console page: only this server's own files run or
    /// style the page; no inline script or style, no frames, forms post only here.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// The console's files as this build bundles them, read once.
    static let bundled = Result { try ConsoleRenderer() }

    init() throws {
        guard let templates = Bundle.module.url(forResource: "Templates", withExtension: nil),
            let files = Bundle.module.url(forResource: "Assets", withExtension: nil)
        else { throw ServiceError.notFound("the console's files are missing from the server's resources") }
        // swift-mustache's own HTML escaping looks at whole characters, so a quote followed by a
        // combining mark passed through it unescaped (out of an attribute's value): every template
        // escapes with `HTML.escape`, which looks at each Unicode scalar.
        MustacheContentTypes.register(ScalarHTML(), named: "VOUCH_HTML")
        var library = MustacheLibrary()
        for name in try FileManager.default.contentsOfDirectory(atPath: templates.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
            try library.register("{{% CONTENT_TYPE: VOUCH_HTML}}" + text, named: String(name.dropLast(".mustache".count)))
        }
        self.library = library
        var assets: [String: Asset] = [:]
        var names: [String: String] = [:]
        for name in ["console.css", "console.js"] {
            let bytes = try Data(contentsOf: files.appendingPathComponent(name))
            let hash = Hex.encode(Array(SHA256.hash(data: bytes))).prefix(12)
            let parts = name.split(separator: ".")
            let served = "\(parts[0]).\(hash).\(parts[1])"
            assets[served] = Asset(
                body: ByteBuffer(bytes: bytes), contentType: parts[1] == "css" ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8")
            names[name] = "/console/assets/" + served
        }
        self.assets = assets
        stylesheet = names["console.css"]!
        script = names["console.js"]!
    }

    /// The headers of every console page.
    static var pageHeaders: HTTPFields {
        [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .contentSecurityPolicy: contentSecurityPolicy,
            HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "same-origin",
            HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("Cross-Origin-Opener-Policy")!: "same-origin",
        ]
    }

    /// Renders `template` with `values`, inside the page frame unless only the main part is asked
    /// for (a live update fetches the main part again).
    func render(_ template: String, _ values: [String: Any], frame: [String: Any], fragment: Bool, status: HTTPResponse.Status = .ok) -> Response {
        let main = library.render(values, withTemplate: template) ?? "<p>The page \(template) could not be drawn.</p>"
        var page = main
        if !fragment {
            var frame = frame
            frame["main"] = main
            frame["css"] = stylesheet
            frame["js"] = script
            page = library.render(frame, withTemplate: "layout") ?? main
        }
        return Response(status: status, headers: Self.pageHeaders, body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }

    /// A static file, or nil for a name this server does not serve (an old version's).
    func asset(_ name: String) -> Response? {
        guard let asset = assets[name] else { return nil }
        return Response(
            status: .ok,
            headers: [
                .contentType: asset.contentType, .cacheControl: "public, max-age=31536000, immutable",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: ResponseBody(byteBuffer: asset.body))
    }
}

/// HTML escaping one Unicode scalar at a time (`HTML.escape`).
struct ScalarHTML: MustacheContentType {
    func escapeText(_ text: String) -> String { HTML.escape(text) }
}

/// How the console writes times and numbers.
enum ConsoleFormat {
    /// `2026-12-05 18:20:04 UTC`.
    static func time(_ seconds: Int) -> String {
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d UTC", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }

    /// The hour an hour number (since the epoch) starts, as `18:00`.
    static func hour(_ hour: Int) -> String {
        String(format: "%02d:00", ((hour % 24) + 24) % 24)
    }

    /// `3 min ago`, `2 h ago`.
    static func ago(_ seconds: Int, now: Int) -> String {
        let age = max(0, now - seconds)
        switch age {
        case ..<60: return "\(age) s ago"
        case ..<3600: return "\(age / 60) min ago"
        case ..<86_400: return "\(age / 3600) h ago"
        default: return "\(age / 86_400) d ago"
        }
    }
}
