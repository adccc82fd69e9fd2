import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VouchAPI
import VouchKit
import VouchSimulation

/// A browser's side of the console, over the test client: it keeps the cookies it is given and
/// sends the forms the pages hold.
struct ConsoleVisitor {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    var cookieHeader: String { cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }

    mutating func keep(_ result: HTTPResult) {
        for field in result.headers[values: .setCookie] {
            let pair = field.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            if field.contains("Max-Age=0") { cookies[String(pair[0])] = nil } else { cookies[String(pair[0])] = String(pair[1]) }
        }
    }

    mutating func get(_ path: String, headers: HTTPFields = [:]) async throws -> HTTPResult {
        var fields = headers
        if !cookies.isEmpty { fields[.cookie] = cookieHeader }
        let result = try await client.call(.get, path, headers: fields)
        keep(result)
        return result
    }

    mutating func post(_ path: String, _ form: [(String, String)], headers: HTTPFields = [:]) async throws -> HTTPResult {
        var fields = headers
        fields[.contentType] = "application/x-www-form-urlencoded"
        if !cookies.isEmpty { fields[.cookie] = cookieHeader }
        let body = form.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        let result = try await client.call(.post, path, headers: fields, body: Array(body.utf8))
        keep(result)
        return result
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    /// The value of the first hidden field named `name` on a page.
    static func field(_ name: String, in page: String) -> String? {
        guard let range = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Signs in with `key`; returns the answer to the sign-in post.
    @discardableResult
    mutating func signIn(_ key: String) async throws -> HTTPResult {
        let form = try await get("/console/sign-in")
        let token = try #require(Self.field("token", in: form.text), "the sign-in page has no token")
        return try await post("/console/sign-in", [("token", token), ("key", key), ("next", "/console")])
    }
}

extension TestClientProtocol {
    /// Enrolls `count` devices into `group` with its claim token; returns their ids in order.
    func enrollDevices(_ count: Int, group: String, token: String, attributes: [[String: String]]? = nil) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count {
            let body = try await DeviceAgent().enrollmentBody(
                nonce: try await nonce(), group: group, token: token, attributes: attributes?[index] ?? ["model": "m1", "serial": "s1"])
            let enrolled = try await call(.post, "/v1/enrollments", json: body)
            ids.append(try #require(enrolled.json["deviceId"]?.stringValue, "\(enrolled.text)"))
        }
        return ids
    }
}

extension HTTPResult {
    /// The devices a console list page shows, in order.
    var listedDevices: [String] {
        text.components(separatedBy: "data-device=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }
}

@Suite("The console: sessions, forms and pages")
struct ConsoleTests {
    @Test func everyConsoleRouteAsksForASessionAndNoneAnswersAServerError() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin, routes in
                let console = routes.filter { $0.split(separator: " ")[1].hasPrefix("/console") }
                #expect(console.count >= 20, "\(console)")
                for route in console {
                    let parts = route.split(separator: " ")
                    let path = String(parts[1]).replacingOccurrences(of: "{id}", with: "x").replacingOccurrences(of: "{action}", with: "quarantine")
                        .replacingOccurrences(of: "{change}", with: "disable").replacingOccurrences(of: "{seq}", with: "1")
                        .replacingOccurrences(of: "{name}", with: "nothing.css")
                    let result = try await client.call(HTTPRequest.Method(String(parts[0]))!, path,
                        headers: [.contentType: "application/x-www-form-urlencoded"], body: Array("csrf=x".utf8))
                    #expect(result.status < 500, "\(route) answered \(result.status)")
                    if path.hasPrefix("/console/sign-in") || path.hasPrefix("/console/assets") { continue }
                    if parts[0] == "GET" {
                        #expect(result.status == 303 && result.headers[.location]?.hasPrefix("/console/sign-in") == true, "\(route): \(result.status)")
                    } else {
                        #expect(result.status == 401 && result.headers[.contentType]?.hasPrefix("text/html") == true, "\(route): \(result.status) \(result.text)")
                    }
                }
            }
        }
    }

    @Test func signingInGivesAStrictHttpOnlySessionAndOnlyPeopleKeysMaySignIn() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                var visitor = ConsoleVisitor(client)
                // The sign-in page and every page after it: a strict policy, no sniffing, no framing, never cached.
                let form = try await visitor.get("/console/sign-in")
                #expect(form.status == 200)
                let policy = try #require(form.headers[.contentSecurityPolicy])
                for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"] {
                    #expect(policy.contains(directive), "\(policy)")
                }
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
                #expect(form.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(form.headers[.cacheControl] == "no-store")
                // Nothing runs inline: every script is this server's file.
                #expect(!form.text.contains("<script>") && !form.text.contains(" style=\"") && !form.text.contains("onclick"))

                // A post without the sign-in form's token (another site's form) is refused.
                var stranger = ConsoleVisitor(client)
                let forged = try await stranger.post("/console/sign-in", [("key", admin), ("token", "guess")])
                #expect(forged.status == 403 && stranger.cookies["vouch_console"] == nil)

                // Wrong keys and gateway keys do not sign in.
                var wrong = ConsoleVisitor(client)
                let unknown = try await wrong.signIn("vk_nothing")
                #expect(unknown.status == 401 && unknown.text.contains("unknown or revoked") && wrong.cookies["vouch_console"] == nil)
                let gateway = try await client.call(.post, "/v1/admin/api-keys", json: ["name": "broker", "scope": "gateway"], apiKey: admin)
                var broker = ConsoleVisitor(client)
                let refused = try await broker.signIn(try #require(gateway.json["secret"]?.stringValue))
                #expect(refused.status == 403 && refused.text.contains("enforcement points") && broker.cookies["vouch_console"] == nil)

                // The admin key signs in: the cookie is HttpOnly, SameSite=Strict, for /console, and Secure (the public URL is https).
                let signedIn = try await visitor.signIn(admin)
                #expect(signedIn.status == 303 && signedIn.headers[.location] == "/console")
                let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("vouch_console=") })
                for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Secure", "Max-Age=43200"] {
                    #expect(cookie.contains(attribute), "\(cookie)")
                }
                #expect(!cookie.contains(admin), "the key is in the cookie")
                let overview = try await visitor.get("/console")
                #expect(overview.status == 200 && overview.text.contains("Fleet overview"))
                #expect(!overview.text.contains(admin), "the key is rendered")

                // The stylesheet and script are served under their content hash, for a year.
                let stylesheet = try #require(overview.text.range(of: #"/console/assets/console\.[0-9a-f]{12}\.css"#, options: .regularExpression))
                let css = try await visitor.get(String(overview.text[stylesheet]))
                #expect(css.status == 200 && css.headers[.cacheControl] == "public, max-age=31536000, immutable" && css.headers[.contentType] == "text/css; charset=utf-8")
                #expect(try await visitor.get("/console/assets/console.000000000000.css").status == 404)

                // Signing out ends the session on the server, not only in the browser.
                let session = try #require(visitor.cookies["vouch_console"])
                let csrf = try #require(ConsoleVisitor.field("csrf", in: overview.text))
                let out = try await visitor.post("/console/sign-out", [("csrf", csrf)])
                #expect(out.status == 303 && out.headers[.location] == "/console/sign-in")
                var replay = ConsoleVisitor(client)
                replay.cookies["vouch_console"] = session
                #expect(try await replay.get("/console/devices").status == 303)
            }
        }
    }

    @Test func formsNeedTheSessionsTokenAndTheirOwnOriginAndScopesHoldOnEveryAction() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let token = try #require(try await client.createGroup("line", apiKey: admin))
                let agent = DeviceAgent()
                let enrolled = try await client.call(.post, "/v1/enrollments", json: try await agent.enrollmentBody(
                    nonce: try await client.nonce(), group: "line", token: token, attributes: ["model": "<script>alert(1)</script>", "serial": "s&1"]))
                let id = try #require(enrolled.json["deviceId"]?.stringValue, "\(enrolled.text)")

                var operator_ = ConsoleVisitor(client)
                try await operator_.signIn(admin)
                let page = try await operator_.get("/console/devices/\(id)")
                #expect(page.status == 200)
                // What a device says about itself is text on the page, never markup.
                #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.text.contains("<script>alert(1)"))
                #expect(page.text.contains("s&amp;1"))
                #expect(page.text.contains("/console/devices/\(id)/quarantine"))
                let csrf = try #require(ConsoleVisitor.field("csrf", in: page.text))

                // The confirmation names the consequence.
                let confirm = try await operator_.get("/console/devices/\(id)/revoke")
                #expect(confirm.status == 200 && confirm.text.contains("cannot be undone"))

                // Without the token, with another's, or from another site: refused, and nothing changed.
                for (form, headers) in [
                    ([(String, String)](), HTTPFields()), ([("csrf", "forged")], HTTPFields()),
                    ([("csrf", csrf)], [HTTPField.Name("Origin")!: "https://evil.example"]),
                    ([("csrf", csrf)], [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"]),
                ] {
                    let refused = try await operator_.post("/console/devices/\(id)/revoke", form, headers: headers)
                    #expect(refused.status == 403 && refused.headers[.contentType]?.hasPrefix("text/html") == true, "\(refused.status)")
                }
                #expect(try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json["device"]?["state"]?.stringValue == "active")

                // With it, from its own page: done, as the API then shows.
                let done = try await operator_.post("/console/devices/\(id)/quarantine", [("csrf", csrf)], headers: [HTTPField.Name("Sec-Fetch-Site")!: "same-origin"])
                #expect(done.status == 303 && done.headers[.location] == "/console/devices/\(id)?done=quarantine")
                let after = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin)
                #expect(after.json["device"]?["state"]?.stringValue == "quarantined")
                let event = try await client.call(.get, "/v1/events?after=0", apiKey: admin).json["events"]?.arrayValue.last { $0["kind"]?.stringValue == "device.quarantined" }
                #expect(event?["actor"]?.stringValue?.hasPrefix("apikey:") == true && event?["data"]?["cause"]?["via"]?.stringValue == "console")
                // An action the state does not allow is refused with what is allowed.
                let illegal = try await operator_.post("/console/devices/\(id)/approve", [("csrf", csrf)])
                #expect(illegal.status == 409 && illegal.text.contains("Allowed now"))

                // A read-only key is offered no action, and is refused one anyway.
                let reader = try await client.call(.post, "/v1/admin/api-keys", json: ["name": "auditor", "scope": "read-only"], apiKey: admin)
                let readerSecret = try #require(reader.json["secret"]?.stringValue)
                let readerID = try #require(reader.json["id"]?.stringValue)
                var auditor = ConsoleVisitor(client)
                try await auditor.signIn(readerSecret)
                let seen = try await auditor.get("/console/devices/\(id)")
                #expect(seen.status == 200 && !seen.text.contains("/console/devices/\(id)/release") && !seen.text.contains("API keys"))
                let readerCSRF = try #require(ConsoleVisitor.field("csrf", in: seen.text))
                let notAllowed = try await auditor.post("/console/devices/\(id)/release", [("csrf", readerCSRF)])
                #expect(notAllowed.status == 403 && notAllowed.text.contains("needs operator"))
                #expect(try await auditor.get("/console/devices/\(id)/release").status == 403)
                #expect(try await auditor.get("/console/api-keys").status == 403)
                #expect(try await auditor.post("/console/api-keys", [("csrf", readerCSRF), ("name", "x"), ("scope", "admin")]).status == 403)

                // Revoking the key ends its sessions at once.
                let revoked = try await operator_.get("/console/api-keys")
                let adminCSRF = try #require(ConsoleVisitor.field("csrf", in: revoked.text))
                #expect(try await operator_.post("/console/api-keys/\(readerID)/revoke", [("csrf", adminCSRF)]).status == 303)
                #expect(try await auditor.get("/console/devices").status == 303)
            }
        }
    }

    @Test func devicesAreFoundByIdPrefixDIDAttributeAndChangeAndBadFiltersSaySo() async throws {
        let clock = VirtualClock()
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, clock: { clock.now }) { client, admin, _ in
                let token = try #require(try await client.createGroup("line", apiKey: admin, extra: ["tokenUses": 10]))
                var ids: [String] = []
                var dids: [String] = []
                for model in ["th-100", "th-200", "th-100"] {
                    let agent = DeviceAgent()
                    let enrolled = try await client.call(.post, "/v1/enrollments", json: try await agent.enrollmentBody(
                        nonce: try await client.nonce(), group: "line", token: token, attributes: ["model": model, "serial": "s"]))
                    ids.append(try #require(enrolled.json["deviceId"]?.stringValue, "\(enrolled.text)"))
                    dids.append(agent.did.description)
                }
                var visitor = ConsoleVisitor(client)
                try await visitor.signIn(admin)
                func listed(_ query: String) async throws -> [String] {
                    let page = try await visitor.get("/console/devices?" + query)
                    #expect(page.status == 200, "\(query): \(page.status) \(page.text.prefix(300))")
                    return page.listedDevices
                }
                #expect(try await listed("") == ids.sorted())
                #expect(try await listed("q=" + ConsoleVisitor.encode(dids[1])) == [ids[1]])
                #expect(try await listed("q=model%3Dth-100") == [ids[0], ids[2]].sorted())
                #expect(try await listed("q=model%3Dth-1") == [])
                // A value alone, when no id starts so: any attribute holding it.
                #expect(try await listed("q=th-200") == [ids[1]])
                #expect(try await listed("q=th-2") == [])
                #expect(try await listed("q=" + String(ids[2].prefix(ids[2].count - 2))).contains(ids[2]))
                #expect(try await listed("state=quarantined") == [])
                #expect(try await listed("group=line&state=active") == ids.sorted())
                // Most recently changed first: quarantine the first a minute later, and it leads.
                clock.advance(by: 60)
                _ = try await client.call(.post, "/v1/admin/devices/\(ids[0])/quarantine", apiKey: admin)
                let changed = try await listed("order=changed")
                #expect(changed.first == ids[0] && Set(changed) == Set(ids))
                // Pages of two, in either order: every device once, by the links the pages give.
                for order in ["id", "changed"] {
                    var seen: [String] = []
                    var next: String? = "/console/devices?order=\(order)&limit=2"
                    while let link = next, seen.count <= ids.count {
                        let page = try await visitor.get(link.replacingOccurrences(of: "&amp;", with: "&"))
                        #expect(page.status == 200)
                        seen += page.listedDevices
                        next = page.text.range(of: #"href="([^"]+)" rel="next""#, options: .regularExpression).map {
                            String(page.text[$0].dropFirst(6).prefix { $0 != "\"" })
                        }
                    }
                    #expect(seen.count == ids.count && Set(seen) == Set(ids), "\(order): \(seen)")
                }
                for (query, phrase) in [("score=101", "within 0 to 100"), ("score=50-20", "within 0 to 100"), ("score=a-b", "within 0 to 100"),
                                        ("score=-5", "within 0 to 100"), ("limit=0", "limit is a whole number"), ("state=bogus", "state must be one of"), ("order=random", "order is id or changed"),
                                        ("order=changed&after=x", "TIME~ID"), ("group=nosuch", "no enrollment group")] {
                    let refused = try await visitor.get("/console/devices?" + query)
                    #expect((400...404).contains(refused.status) && refused.text.contains(phrase), "\(query): \(refused.status) \(refused.text.prefix(400))")
                }
            }
        }
    }

    /// What an outside review found, each held: escaping by scalar, single-use sign-in tokens,
    /// sessions per key, the scheme of an origin, claims a link cannot make, reasons a revocation
    /// cannot give, forms that are not UTF-8, and searches whose filters leave a page short.
    @Test func whatTheReviewFoundStaysFixed() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let token = try #require(try await client.createGroup("line", apiKey: admin, extra: ["tokenUses": 10]))
                var ids = try await client.enrollDevices(4, group: "line", token: token)
                ids.sort()
                var visitor = ConsoleVisitor(client)
                try await visitor.signIn(admin)

                // A quote followed by a combining mark is one character, and still a quote to a browser.
                let sneaky = try await visitor.get("/console/devices?q=x%22%CC%81%20autofocus%20onfocus%3Dalert(1)&zone=y%22%CC%81%20hidden")
                #expect(sneaky.status == 200)
                #expect(!sneaky.text.contains("\"\u{301} autofocus") && !sneaky.text.contains("\"\u{301} hidden"), "an attribute was broken out of")
                #expect(sneaky.text.contains("&quot;\u{301} autofocus onfocus=alert(1)"))

                // A sign-in token is good once, and only one the server handed out.
                var again = ConsoleVisitor(client)
                let form = try await again.get("/console/sign-in")
                let signInToken = try #require(ConsoleVisitor.field("token", in: form.text))
                #expect(try await again.post("/console/sign-in", [("token", signInToken), ("key", admin)]).status == 303)
                again.cookies["vouch_console_signin"] = signInToken
                #expect(try await again.post("/console/sign-in", [("token", signInToken), ("key", admin)]).status == 403)
                var made = ConsoleVisitor(client)
                made.cookies["vouch_console_signin"] = String(repeating: "A", count: 43)
                #expect(try await made.post("/console/sign-in", [("token", String(repeating: "A", count: 43)), ("key", admin)]).status == 403)

                // One key's sessions end their own oldest past 16, never another key's.
                let reader = try await client.call(.post, "/v1/admin/api-keys", json: ["name": "auditor", "scope": "read-only"], apiKey: admin)
                let readerSecret = try #require(reader.json["secret"]?.stringValue)
                var readers: [ConsoleVisitor] = []
                for _ in 0..<17 {
                    var one = ConsoleVisitor(client)
                    try await one.signIn(readerSecret)
                    readers.append(one)
                }
                #expect(try await readers[0].get("/console").status == 303, "the key's oldest session outlived its limit")
                #expect(try await readers[16].get("/console").status == 200)
                #expect(try await visitor.get("/console").status == 200, "another key's sign-ins ended the admin's session")

                // The origin is the whole of it: scheme, host and port.
                let page = try await visitor.get("/console/devices/\(ids[0])")
                let csrf = try #require(ConsoleVisitor.field("csrf", in: page.text))
                let host = try #require(page.headers[.contentType] != nil ? "vouch.test" : nil)
                for origin in ["http://vouch.test", "https://vouch.test:8443", "https://evil.example"] {
                    let refused = try await visitor.post("/console/devices/\(ids[0])/suspend", [("csrf", csrf)], headers: [HTTPField.Name("Origin")!: origin])
                    #expect(refused.status == 403, "\(origin) was taken for https://\(host)")
                }
                let taken = try await visitor.post("/console/devices/\(ids[0])/suspend", [("csrf", csrf)], headers: [HTTPField.Name("Origin")!: "https://vouch.test"])
                #expect(taken.status == 303, "the public URL's own origin was refused: \(taken.status)")

                // A link cannot make a page claim what did not happen.
                let claimed = try await visitor.get("/console/devices/\(ids[1])?done=revoke")
                #expect(!claimed.text.contains("The device was revoked"))
                let shown = try await visitor.get("/console/devices/\(ids[0])?done=suspend")
                #expect(shown.text.contains("The device was suspended"))
                #expect(!(try await visitor.get("/console/policy?done=-5")).text.contains("Version -5 is in force"))

                // A revocation for good cannot say "hold", here or in the API.
                let held = try await visitor.post("/console/devices/\(ids[1])/revoke", [("csrf", csrf), ("reason", "certificate-hold")])
                #expect(held.status == 400 && held.text.contains("suspend the device"))
                let api = try await client.call(.post, "/v1/admin/devices/\(ids[1])/revoke", json: ["reason": "certificate-hold"], apiKey: admin)
                expectProblem(api, 400, "certificate-hold is not a reason")

                // A form that is not UTF-8 is refused.
                var bytes = Array("csrf=".utf8) + Array(csrf.utf8) + Array("&reason=".utf8)
                bytes.append(0xFF)
                let garbled = try await client.call(.post, "/console/devices/\(ids[1])/revoke", headers: [
                    .contentType: "application/x-www-form-urlencoded", .cookie: visitor.cookieHeader,
                ], body: bytes)
                #expect(garbled.status == 400 && garbled.text.contains("not UTF-8"))

                // A search whose filters leave most rows out still fills its page, and links on.
                let suspended = try await visitor.get("/console/devices?q=dev_&state=suspended&limit=1")
                #expect(suspended.text.contains("data-device=\"\(ids[0])\""), "\(suspended.text.prefix(500))")
                let active = try await visitor.get("/console/devices?q=dev_&state=active&limit=1")
                #expect(active.text.contains("data-device=\"\(ids[1])\"") && active.text.contains("rel=\"next\""))
            }
        }
    }
}
