import Foundation
import HTTPTypes
import Hummingbird
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// `/console`: the operators' web interface. Pages are drawn on the server from templates; a small
/// script of our own brings live updates. Sign-in exchanges an API key for a session cookie
/// (`HttpOnly`, `SameSite=Strict`, `Secure` over TLS); the key's scope is checked on every page
/// and action, and every state-changing form carries the session's token.
struct ConsoleController: Sendable {
    let console: ConsoleService
    let renderer: ConsoleRenderer
    let store: Store
    /// Whether cookies are marked `Secure` (the server is reached over TLS).
    let secureCookies: Bool
    let heartbeat: Duration
    let open: ServerSentEvents.OpenStreams
    let metrics: ServerMetrics
    /// Sign-in attempts per source address, as for the API's authentication.
    let limiter: RateLimiter
    /// Whether the main listener speaks TLS.
    let tls: Bool
    /// The public URL's origin, which forms may also come from (a proxy in front).
    let publicOrigin: String?

    var endpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
            .add(middleware: ConsolePageErrors(renderer: renderer))
        routes.get("assets/{name}", use: asset)
        routes.get("sign-in", use: signInPage)
        routes.post("sign-in", use: signIn)
        let signedIn = routes.group().add(middleware: ConsoleAuthenticator(console: console))
        signedIn.post("sign-out", use: signOut)
        signedIn.get(use: overview)
        signedIn.get("live", use: live)
        signedIn.get("devices", use: devices)
        signedIn.get("devices/{id}", use: device)
        signedIn.get("devices/{id}/{action}", use: confirmAction)
        signedIn.post("devices/{id}/{action}", use: applyAction)
        signedIn.get("groups", use: groups)
        signedIn.post("groups", use: createGroup)
        signedIn.get("groups/{id}", use: group)
        signedIn.post("groups/{id}", use: updateGroup)
        signedIn.post("groups/{id}/{change}", use: changeGroup)
        signedIn.get("policy", use: policy)
        signedIn.post("policy", use: checkPolicy)
        signedIn.get("log", use: transparencyLog)
        signedIn.get("events", use: events)
        signedIn.post("webhooks/{id}/deliveries/{seq}/redeliver", use: redeliver)
        signedIn.get("api-keys", use: apiKeys)
        signedIn.post("api-keys", use: createAPIKey)
        signedIn.post("api-keys/{id}/revoke", use: revokeAPIKey)
        return routes
    }

    // MARK: Frame

    enum Section: String, CaseIterable {
        case overview = "Overview", devices = "Devices", groups = "Groups", policy = "Policy", log = "Transparency log", events = "Events"
        case apiKeys = "API keys"

        var path: String {
            switch self {
            case .overview: "/console"
            case .devices: "/console/devices"
            case .groups: "/console/groups"
            case .policy: "/console/policy"
            case .log: "/console/log"
            case .events: "/console/events"
            case .apiKeys: "/console/api-keys"
            }
        }
    }

    /// What every page's frame shows: the navigation, who is signed in, the sign-out form.
    func frame(_ title: String, _ section: Section?, _ context: VouchRequestContext, live: String = "") -> [String: Any] {
        var frame: [String: Any] = ["title": title, "live": live]
        if let session = context.consoleSession, let key = try? context.apiKey {
            frame["signedIn"] = [
                "keyName": session.keyName, "scope": key.scope.rawValue, "csrf": session.csrf,
                "nav": Section.allCases.filter { $0 != .apiKeys || key.scope >= .admin }.map { item -> [String: Any] in
                    ["label": item.rawValue, "href": item.path, "current": item == section]
                },
            ] as [String: Any]
        }
        return frame
    }

    static func isFragment(_ request: Request) -> Bool {
        request.headers[HTTPField.Name("X-Console-Fragment")!] == "main"
    }

    func page(_ template: String, _ values: [String: Any], _ title: String, _ section: Section?, _ request: Request, _ context: VouchRequestContext, live: String = "", status: HTTPResponse.Status = .ok) -> Response {
        var values = values
        if let key = try? context.apiKey {
            values["mayOperate"] = key.scope >= .operator
            values["mayAdminister"] = key.scope >= .admin
        }
        values["csrf"] = context.consoleSession?.csrf ?? ""
        return renderer.render(template, values, frame: frame(title, section, context, live: live), fragment: Self.isFragment(request), status: status)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    // MARK: Assets

    @Sendable func asset(_ request: Request, context: VouchRequestContext) async throws -> Response {
        guard let response = renderer.asset(try context.parameters.require("name")) else {
            throw ServiceError.notFound("no such console file; reload the page")
        }
        return response
    }

    // MARK: Sign-in

    static let signInCookie = "vouch_console_signin"

    @Sendable func signInPage(_ request: Request, context: VouchRequestContext) async throws -> Response {
        if let cookie = request.cookies[ConsoleSessions.cookie]?.value, try await console.session(cookie: cookie) != nil {
            return Self.redirect("/console")
        }
        return signInForm(request, context, problem: nil, status: .ok)
    }

    /// The sign-in form, with a fresh token in a cookie and in the form: a sign-in posted from
    /// another site carries neither.
    func signInForm(_ request: Request, _ context: VouchRequestContext, problem: String?, status: HTTPResponse.Status) -> Response {
        let token = console.sessions.signInToken(now: console.clock.now)
        var values: [String: Any] = ["token": token, "next": Self.safeNext(request.uri.queryParameters["next"].map(String.init)) ?? "/console"]
        if let problem { values["problem"] = problem }
        var response = renderer.render("sign-in", values, frame: frame("Sign in", nil, context), fragment: false, status: status)
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.signInCookie, token, maxAge: 600)))
        return response
    }

    /// Where to go after signing in: only a console path of this server.
    static func safeNext(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/console"), !next.hasPrefix("//"), !next.contains("\\"), next.utf8.count <= 512,
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return nil }
        return next
    }

    func cookie(_ name: String, _ value: String, maxAge: Int) -> String {
        "\(name)=\(value); Path=/console; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secureCookies ? "; Secure" : "")
    }

    @Sendable func signIn(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try limiter.take(context.sourceKey)
        try checkOrigin(request)
        let form = try await ConsoleForm(request)
        // The token must be one this server handed out, unused, and the one its cookie carries
        // (another site can get a token, but cannot set this site's cookie).
        guard let sent = form["token"], let kept = request.cookies[Self.signInCookie]?.value, ConstantTime.equals(Array(sent.utf8), Array(kept.utf8)),
            console.sessions.takeSignInToken(sent, now: console.clock.now)
        else {
            return signInForm(request, context, problem: "The sign-in form had expired. Paste the key again.", status: .forbidden)
        }
        guard let secret = form.text("key") else {
            return signInForm(request, context, problem: "Paste an API key (it starts with vk_).", status: .badRequest)
        }
        let opened: (cookie: String, session: ConsoleSession)
        do {
            opened = try await console.signIn(secret: secret)
        } catch let error as ServiceError {
            return signInForm(request, context, problem: error.detail, status: Problem.status(of: error.code))
        }
        var response = Self.redirect(Self.safeNext(form["next"]) ?? "/console")
        response.headers.append(HTTPField(name: .setCookie, value: cookie(ConsoleSessions.cookie, opened.cookie, maxAge: Int(ConsoleSessions.lifetime))))
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.signInCookie, "", maxAge: 0)))
        return response
    }

    @Sendable func signOut(_ request: Request, context: VouchRequestContext) async throws -> Response {
        _ = try await checkedForm(request, context)
        if let cookie = request.cookies[ConsoleSessions.cookie]?.value { console.sessions.close(cookie: cookie) }
        var response = Self.redirect("/console/sign-in")
        response.headers.append(HTTPField(name: .setCookie, value: cookie(ConsoleSessions.cookie, "", maxAge: 0)))
        return response
    }

    /// The form of a state-changing request, once its origin and token are checked.
    func checkedForm(_ request: Request, _ context: VouchRequestContext) async throws -> ConsoleForm {
        try checkOrigin(request)
        let form = try await ConsoleForm(request)
        guard let session = context.consoleSession, let sent = form["csrf"], ConstantTime.equals(Array(sent.utf8), Array(session.csrf.utf8)) else {
            throw ServiceError.forbidden("the form's token is missing or stale; reload the page and try again")
        }
        return form
    }

    // MARK: Live updates

    /// `GET /console/live`: a Server-Sent Event per committed event (its kind and subject only);
    /// the page's script decides whether what it shows changed and fetches its main part again.
    @Sendable func live(_ request: Request, context: VouchRequestContext) async throws -> Response {
        // From now on only: a page asks again for what it shows when it starts, so nothing before
        // is sent (Last-Event-ID is not taken up).
        let start = try await store.read { try await $0.counters.current(.events) }
        let cookie = request.cookies[ConsoleSessions.cookie]?.value ?? ""
        let console = self.console
        let store = self.store
        let sessions = console.sessions
        return ServerSentEvents.response(
            open: open, caller: ({ sessions.takeStream(cookie: cookie) }, { sessions.giveStream(cookie: cookie) }), pulse: store.database.eventsCommitted,
            heartbeat: heartbeat, start: start, greeting: "console"
        ) { after in
            // The session is asked again as the stream goes on: signed out or revoked, it ends.
            guard try await console.session(cookie: cookie, touch: false) != nil else { return nil }
            let events = try await store.read { try await $0.events.summaries(after: after, limit: 500) }
            var frames = ""
            for event in events {
                let kind = event.kind?.rawValue ?? "unknown"
                frames += "id: \(event.seq)\nevent: change\ndata: {\"kind\":\"\(kind)\",\"subject\":\(Self.jsonString(event.subject))}\n\n"
            }
            return ServerSentEvents.Page(frames: frames, last: events.last?.seq ?? after, more: events.count == 500)
        }
    }

    static func jsonString(_ text: String) -> String {
        String(decoding: JSONValue.string(text).canonicalJSON, as: UTF8.self)
    }

    // MARK: Overview

    @Sendable func overview(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let overview = try await console.overview()
        let now = console.clock.seconds
        let states = ConsoleChart(
            title: "Devices by state", category: "state",
            bars: overview.byState.map { .init(label: $0.state, value: $0.count, link: "/console/devices?state=\($0.state)") }, unit: "devices")
        let zones = ConsoleChart(
            title: "Devices by zone", category: "zone",
            bars: overview.byZone.prefix(12).map { .init(label: $0.zone, value: $0.count, link: "/console/devices?zone=\(Self.query($0.zone))") }, unit: "devices")
        let scores = ConsoleChart(
            title: "Trust scores of watched devices", category: "score",
            bars: overview.scoreBands.enumerated().map { band in
                // Bands below 90 link to the devices scoring at most their top (90–100 holds every device never observed).
                .init(label: band.offset == 9 ? "90–100" : "\(band.offset * 10)–\(band.offset * 10 + 9)", value: band.element,
                      link: "/console/devices?score=\(band.offset * 10)-\(band.offset == 9 ? 100 : band.offset * 10 + 9)")
            },
            unit: "devices")
        let signals = ConsoleChart(
            title: "Signals raised per hour (this server, last 24 h)", category: "hour starting",
            bars: overview.signalsPerHour.map { .init(label: ConsoleFormat.hour($0.hour), value: $0.count, link: "/console/events?kind=monitor.*") },
            unit: "signals", labelEvery: 4)
        let enrollments = ConsoleChart(
            title: "Enrollments per hour (last 24 h)", category: "hour starting",
            bars: overview.enrollmentsPerHour.map { .init(label: ConsoleFormat.hour($0.hour), value: $0.count, link: "/console/events?kind=device.enrolled") },
            unit: "enrollments", labelEvery: 4)
        let values: [String: Any] = [
            "total": overview.total,
            "stateCounts": overview.byState.map { ["state": $0.state, "count": $0.count] },
            "charts": [states, zones, scores, signals, enrollments].map { ["html": $0.html] },
            "alerts": overview.alerts.prefix(50).map { alert -> [String: Any] in
                ["device": alert.device, "href": "/console/devices/\(Self.path(alert.device))", "kind": alert.kind, "summary": alert.summary,
                 "when": ConsoleFormat.time(alert.at), "ago": ConsoleFormat.ago(alert.at, now: now)]
            },
            "alertCount": overview.alerts.count,
            "logSize": overview.logSize, "logRoot": overview.logRoot ?? "", "cosignatures": overview.cosignatures, "quorum": overview.quorum,
            "lastEvent": overview.lastEvent,
        ]
        return page("overview", values, "Overview", .overview, request, context, live: "all")
    }

    // MARK: Devices

    @Sendable func devices(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        func field(_ name: String) -> String? {
            guard let value = query[Substring(name)].map(String.init)?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        var wanted = ConsoleService.DeviceQuery()
        wanted.search = field("q")
        if let search = wanted.search, search.utf8.count > 256 { throw ServiceError.invalidRequest("a search is at most 256 characters") }
        if let state = field("state") {
            guard let known = DeviceState(rawValue: state) else {
                throw ServiceError.invalidRequest("state must be one of \(DeviceState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            wanted.state = known
        }
        wanted.zone = field("zone")
        wanted.group = field("group")
        wanted.after = field("after")
        if let score = field("score") {
            wanted.score = try Self.scoreRange(score)
        }
        if let limit = field("limit") {
            guard limit.utf8.count <= 3, let count = Int(limit), (1...200).contains(count) else {
                throw ServiceError.invalidRequest("limit is a whole number of devices per page, from 1 to 200")
            }
            wanted.limit = count
        }
        if let order = field("order") {
            guard let known = ConsoleService.DeviceQuery.Order(rawValue: order) else {
                throw ServiceError.invalidRequest("order is id or changed")
            }
            wanted.order = known
        }
        let (found, next) = try await console.devices(wanted)
        let groups = try await console.groups.list()
        let groupNames = Dictionary(groups.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let now = console.clock.seconds
        var nextLink: String?
        if let next {
            var parts: [String] = []
            for name in ["q", "state", "zone", "group", "score", "order", "limit"] { if let value = field(name) { parts.append("\(name)=\(Self.query(value))") } }
            parts.append("after=\(Self.query(next))")
            nextLink = "/console/devices?" + parts.joined(separator: "&")
        }
        let values: [String: Any] = [
            "q": wanted.search ?? "", "zone": wanted.zone ?? "", "score": field("score") ?? "",
            "orders": [["value": "id", "label": "id", "selected": wanted.order == .id], ["value": "changed", "label": "last changed, newest first", "selected": wanted.order == .changed]],
            "states": DeviceState.allCases.map { ["value": $0.rawValue, "selected": $0 == wanted.state] },
            "groups": groups.map { ["value": $0.name, "selected": $0.name == wanted.group || $0.id == wanted.group] },
            "devices": found.map { device -> [String: Any] in
                ["id": device.id, "href": "/console/devices/\(Self.path(device.id))", "state": device.state, "zone": device.zone,
                 "group": groupNames[device.group] ?? device.group, "did": device.did, "updated": ConsoleFormat.ago(device.updatedAt, now: now),
                 "updatedAt": ConsoleFormat.time(device.updatedAt)]
            },
            "none": found.isEmpty, "next": nextLink ?? "", "hasNext": nextLink != nil, "paged": wanted.after != nil,
        ]
        return page("devices", values, "Devices", .devices, request, context, live: "device")
    }

    @Sendable func device(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (detail, trust, alert) = try await console.device(id)
        let now = console.clock.seconds
        let device = detail.device
        let history = ConsoleChart(
            title: "Trust score over time", category: "when",
            bars: trust.history.suffix(24).map { .init(label: ConsoleFormat.time($0.at).dropFirst(11).prefix(5).description, value: $0.score) },
            unit: "score", labelEvery: 4)
        var values: [String: Any] = [
            "id": device.id, "did": device.did, "state": device.state, "zone": device.zone, "group": device.group,
            "thumbprint": device.keyThumbprint, "created": ConsoleFormat.time(device.createdAt), "updated": ConsoleFormat.time(device.updatedAt),
            "roles": device.roles.joined(separator: ", "), "hasRoles": !device.roles.isEmpty,
            "attributes": device.attributes.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] },
            "previousDids": device.previousDids,
            "certificates": detail.certificates.map { certificate -> [String: Any] in
                ["serial": certificate.serial, "status": certificate.status, "notBefore": ConsoleFormat.time(certificate.notBefore),
                 "notAfter": ConsoleFormat.time(certificate.notAfter), "reason": certificate.reason ?? ""]
            },
            "credentials": detail.credentials.map { credential -> [String: Any] in
                ["id": credential.id, "type": credential.type, "statusIndex": credential.statusIndex, "issued": ConsoleFormat.time(credential.issuedAt),
                 "expires": ConsoleFormat.time(credential.expiresAt)]
            },
            "score": trust.score, "explanation": trust.explanation,
            "signals": trust.signals.map { signal -> [String: Any] in
                ["kind": signal.kind, "count": signal.count, "contribution": String(format: "%.1f", signal.contribution), "detail": signal.detail,
                 "lastSeen": ConsoleFormat.ago(signal.lastSeen, now: now)]
            },
            "historyChart": trust.history.isEmpty ? "" : history.html,
            "activity": detail.activity.metrics.sorted { $0.key < $1.key }.map { metric -> [String: Any] in
                ["metric": metric.key, "minute": metric.value["1m"] ?? 0, "five": metric.value["5m"] ?? 0, "hour": metric.value["1h"] ?? 0]
            },
            "addresses": detail.activity.sourceAddresses.joined(separator: ", "), "hasAddresses": !detail.activity.sourceAddresses.isEmpty,
            "events": detail.history.reversed().map { event -> [String: Any] in
                ["seq": event.seq, "entry": event.seq - 1, "entryHref": "/console/log?entry=\(event.seq - 1)", "kind": event.kind, "actor": event.actor,
                 "when": ConsoleFormat.time(event.at)]
            },
            "actions": device.legalActions.map { action -> [String: Any] in
                ["action": action, "label": action.capitalized, "href": "/console/devices/\(Self.path(device.id))/\(action)",
                 "danger": action == "revoke" || action == "decommission"]
            },
            "hasActions": !device.legalActions.isEmpty,
        ]
        if let firmware = detail.firmware {
            values["firmware"] = [
                "version": firmware.version, "sha256": firmware.sha256, "status": firmware.status, "phase": firmware.phase,
                "reported": ConsoleFormat.time(firmware.reportedAt),
            ]
        }
        if let alert {
            values["alert"] = ["kind": alert.kind, "summary": alert.summary, "when": ConsoleFormat.time(alert.at)]
        }
        // Said only when the device is in the state the action leads to: a link cannot make the page claim it.
        if let done = request.uri.queryParameters["done"], let action = LifecycleAction(rawValue: String(done)),
            let state = DeviceState(rawValue: device.state), (try? DeviceLifecycle.transition(from: Self.before(action), on: action).get()) == state
        {
            values["notice"] = "The device was \(action.pastTense)."
        }
        return page("device", values, device.id, .devices, request, context, live: "device:\(device.id)")
    }

    /// A trust-score filter: `N` (0 to N) or `A-B`, within 0–100.
    static func scoreRange(_ text: String) throws -> ClosedRange<Int> {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        let numbers = parts.map { part -> Int? in part.utf8.count <= 3 ? Int(part.trimmingCharacters(in: .whitespaces)) : nil }
        let bounds: (Int?, Int?) = numbers.count == 1 ? (0, numbers[0]) : (numbers[0], numbers[1])
        guard let low = bounds.0, let high = bounds.1, 0 <= low, low <= high, high <= 100 else {
            throw ServiceError.invalidRequest("score is a trust score N (devices scoring 0 to N) or a range A-B, within 0 to 100")
        }
        return low...high
    }

    /// A state the action can be taken from (for checking where it leads).
    static func before(_ action: LifecycleAction) -> DeviceState {
        switch action {
        case .approve: .pending
        case .suspend, .quarantine, .revoke, .decommission: .active
        case .reinstate: .suspended
        case .release: .quarantined
        }
    }

    /// What each action does, in the words the confirmation shows.
    static func consequence(of action: LifecycleAction) -> String {
        switch action {
        case .approve: "issues its certificate and credentials now; it may act as its policy allows."
        case .suspend: "puts its certificates on hold and suspends its credentials; it can do nothing until it is reinstated."
        case .reinstate: "lifts the hold on its certificates and credentials and clears what monitoring held against it."
        case .quarantine: "moves it to the quarantine zone: its certificate stays good for re-attestation, its credentials are suspended, and policy grants it only what quarantine allows."
        case .release: "returns it to its zone, lifts the suspension of its credentials and clears what monitoring held against it."
        case .revoke: "revokes its certificates and credentials for good: CRL, OCSP, status lists, brokers and webhooks see it at once. This cannot be undone; the device must enroll again."
        case .decommission: "retires it for good: its certificates and credentials are revoked and it leaves the fleet. This cannot be undone."
        }
    }

    func action(_ context: VouchRequestContext) throws -> (id: String, action: LifecycleAction) {
        let id = try context.parameters.require("id")
        let name = try context.parameters.require("action")
        guard let action = LifecycleAction(rawValue: name) else {
            throw ServiceError.notFound("no device action \(name.prefix(32)); actions: \(LifecycleAction.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return (id, action)
    }

    @Sendable func confirmAction(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let (id, action) = try action(context)
        try context.apiKey.require(.operator)
        let device = try await console.lifecycle.device(id)
        guard DeviceLifecycle.legalActions(from: device.state).contains(action) else {
            throw ServiceError.conflict("a \(device.state.rawValue) device cannot be \(action.pastTense)")
        }
        let values: [String: Any] = [
            "id": id, "href": "/console/devices/\(Self.path(id))", "action": action.rawValue, "label": action.rawValue.capitalized,
            "consequence": device.state == .pending && action == .revoke
                ? "refuses its enrollment: it was issued nothing, and it must enroll again to be considered anew."
                : Self.consequence(of: action),
            "state": device.state.rawValue,
            "askReason": action == .revoke || action == .decommission,
            "reasons": RevocationReason.allCases.filter { $0 != .certificateHold && $0 != .unspecified }.map { ["name": $0.name] },
            "danger": action == .revoke || action == .decommission,
        ]
        return page("confirm", values, "\(action.rawValue.capitalized) \(id)?", .devices, request, context)
    }

    @Sendable func applyAction(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let (id, action) = try action(context)
        try context.apiKey.require(.operator)
        let form = try await checkedForm(request, context)
        var reason: RevocationReason?
        if let name = form.text("reason") {
            guard let parsed = RevocationReason(name: name) else {
                throw ServiceError.invalidRequest("reason must be one of \(RevocationReason.allCases.map(\.name).joined(separator: ", "))")
            }
            reason = parsed
        }
        _ = try await console.lifecycle.apply(action, to: id, reason: reason, actor: context.actor, cause: ["via": .string("console")])
        if action == .revoke || action == .decommission { metrics.revoked() }
        return Self.redirect("/console/devices/\(Self.path(id))?done=\(action.rawValue)")
    }

    // MARK: Groups

    @Sendable func groups(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try await groupsPage(request, context, created: nil)
    }

    func groupsPage(_ request: Request, _ context: VouchRequestContext, created: (name: String, token: String)?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let groups = try await console.groups.list()
        let pending = try await console.lifecycle.devices(state: DeviceState.pending.rawValue, group: nil, zone: nil, after: nil, limit: 100)
        let names = Dictionary(groups.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        var values: [String: Any] = [
            "groups": groups.map { group -> [String: Any] in
                ["id": group.id, "name": group.name, "disabled": group.disabled, "attestation": group.rules.attestation.rawValue,
                 "approval": group.rules.approval.rawValue, "zone": group.rules.defaultZone, "roles": group.rules.defaultRoles.joined(separator: ", "),
                 "usesLeft": group.tokenUsesLeft.map(String.init) ?? "unlimited", "href": "/console/devices?group=\(Self.query(group.name))",
                 "edit": "/console/groups/\(Self.path(group.id))",
                 "change": group.disabled ? "enable" : "disable", "changeLabel": group.disabled ? "Enable" : "Disable",
                 "action": "/console/groups/\(Self.path(group.id))/\(group.disabled ? "enable" : "disable")"]
            },
            "pending": pending.map { device -> [String: Any] in
                ["id": device.id, "href": "/console/devices/\(Self.path(device.id))", "group": names[device.group] ?? device.group,
                 "approve": "/console/devices/\(Self.path(device.id))/approve", "refuse": "/console/devices/\(Self.path(device.id))/revoke"]
            },
            "hasPending": !pending.isEmpty,
        ]
        if let created {
            values["created"] = ["name": created.name, "token": created.token]
        }
        // A page showing a new claim token is not refreshed: that would take the token away.
        return page("groups", values, "Groups", .groups, request, context, live: created == nil ? "group" : "", status: status)
    }

    /// A group's rules as the group forms set them, over `rules`.
    static func rules(_ form: ConsoleForm, over rules: EnrollmentRules) throws -> EnrollmentRules {
        var rules = rules
        rules.defaultZone = form.text("zone") ?? EnrollmentRules().defaultZone
        rules.defaultRoles = (form.text("roles") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        switch form.text("approval") ?? "auto" {
        case "auto": rules.approval = .auto
        case "manual": rules.approval = .manual
        default: throw ServiceError.invalidRequest("approval is auto or manual")
        }
        if let uses = form.text("uses") {
            guard uses.utf8.count <= 7, let count = Int(uses), (1...1_000_000).contains(count) else {
                throw ServiceError.invalidRequest("token uses must be a whole number from 1 to 1000000, or empty for unlimited")
            }
            rules.tokenUses = count
        } else {
            rules.tokenUses = nil
        }
        return rules
    }

    @Sendable func group(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try context.apiKey.require(.operator)
        let group = try await console.groups.group(try context.parameters.require("id"))
        let values: [String: Any] = [
            "id": group.id, "name": group.name, "action": "/console/groups/\(Self.path(group.id))", "zone": group.rules.defaultZone,
            "roles": group.rules.defaultRoles.joined(separator: ", "), "uses": group.rules.tokenUses.map(String.init) ?? "",
            "manual": group.rules.approval == .manual, "claimToken": group.rules.attestation == .claimToken,
            "usesLeft": group.tokenUsesLeft.map(String.init) ?? "unlimited",
        ]
        return page("group", values, "Group \(group.name)", .groups, request, context)
    }

    @Sendable func updateGroup(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try context.apiKey.require(.operator)
        let form = try await checkedForm(request, context)
        let current = try await console.groups.group(try context.parameters.require("id"))
        let (group, token) = try await console.groups.update(
            current.id, rules: try Self.rules(form, over: current.rules), rotateToken: form["rotate"] == "yes", actor: context.actor)
        // A new claim token is shown on this answer only.
        return try await groupsPage(request, context, created: token.map { (group.name, $0) }, status: .ok)
    }

    @Sendable func createGroup(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try context.apiKey.require(.operator)
        let form = try await checkedForm(request, context)
        guard let name = form.text("name") else { throw ServiceError.invalidRequest("a group needs a name") }
        let rules = try Self.rules(form, over: EnrollmentRules())
        let (group, token) = try await console.groups.create(name: name, rules: rules, actor: context.actor)
        // The claim token is shown on this answer only: it is not kept, and this page is not cached.
        return try await groupsPage(request, context, created: token.map { (group.name, $0) }, status: .created)
    }

    @Sendable func changeGroup(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try context.apiKey.require(.operator)
        _ = try await checkedForm(request, context)
        let id = try context.parameters.require("id")
        switch try context.parameters.require("change") {
        case "disable": _ = try await console.groups.setDisabled(id, disabled: true, actor: context.actor)
        case "enable": _ = try await console.groups.setDisabled(id, disabled: false, actor: context.actor)
        default: throw ServiceError.notFound("a group is disabled or enabled")
        }
        return Self.redirect("/console/groups")
    }

    // MARK: API keys

    @Sendable func apiKeys(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try context.apiKey.require(.admin)
        return try await keysPage(request, context, created: nil)
    }

    func keysPage(_ request: Request, _ context: VouchRequestContext, created: (name: String, secret: String)?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let keys = try await console.apiKeys.list()
        let own = try context.apiKey.id
        var values: [String: Any] = [
            "keys": keys.reversed().map { key -> [String: Any] in
                ["id": key.id, "name": key.name, "scope": key.scope.rawValue, "created": ConsoleFormat.time(key.createdAt),
                 "revoked": key.revokedAt.map(ConsoleFormat.time) ?? "", "live": key.revokedAt == nil, "own": key.id == own,
                 "action": "/console/api-keys/\(Self.path(key.id))/revoke"]
            },
            "scopes": APIScope.allCases.map { ["value": $0.rawValue, "selected": $0 == .readOnly] },
        ]
        if let created {
            values["created"] = ["name": created.name, "secret": created.secret]
        }
        // A page showing a new secret is not refreshed: that would take the secret away.
        return page("api-keys", values, "API keys", .apiKeys, request, context, live: created == nil ? "apikey" : "", status: status)
    }

    @Sendable func createAPIKey(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try context.apiKey.require(.admin)
        let form = try await checkedForm(request, context)
        guard let name = form.text("name") else { throw ServiceError.invalidRequest("a key needs a name") }
        guard let scope = APIScope(rawValue: form.text("scope") ?? "read-only") else {
            throw ServiceError.invalidRequest("scope must be one of \(APIScope.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let (row, secret) = try await console.apiKeys.create(name: name, scope: scope, actor: context.actor)
        // The secret is shown on this answer only: the server keeps its digest.
        return try await keysPage(request, context, created: (row.name, secret), status: .created)
    }

    @Sendable func revokeAPIKey(_ request: Request, context: VouchRequestContext) async throws -> Response {
        try context.apiKey.require(.admin)
        _ = try await checkedForm(request, context)
        let id = try context.parameters.require("id")
        try await console.apiKeys.revoke(id: id, actor: context.actor)
        console.sessions.close(keyID: id)
        return Self.redirect("/console/api-keys")
    }

    // MARK: Origins

    /// Refuses a state-changing request another site started: the browser says where it came from
    /// (`Sec-Fetch-Site`, `Origin`), and it must be this server as the browser reached it (its
    /// `Host`, over this listener's scheme) or as its public URL names it.
    func checkOrigin(_ request: Request) throws {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
            throw ServiceError.forbidden("the console takes forms only from its own pages (this one came from a \(site.prefix(16)) page)")
        }
        guard let origin = request.headers[HTTPField.Name("Origin")!] else { return }
        var allowed = Set(publicOrigin.map { [$0] } ?? [])
        if let authority = request.head.authority { allowed.insert("\(tls ? "https" : "http")://\(authority.lowercased())") }
        guard allowed.contains(Self.origin(of: origin) ?? "") else {
            throw ServiceError.forbidden("the console takes forms only from its own pages (this one came from \(origin.prefix(64)))")
        }
    }

    /// `scheme://host[:port]` of a URL, lower-cased, with the scheme's default port left out.
    static func origin(of text: String) -> String? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host?.lowercased(),
            url.user == nil, url.password == nil
        else { return nil }
        let port = url.port.flatMap { ($0 == 80 && scheme == "http") || ($0 == 443 && scheme == "https") ? nil : $0 }
        return "\(scheme)://\(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host)" + (port.map { ":\($0)" } ?? "")
    }

    // MARK: Paths

    /// A value as one path segment.
    static func path(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? value
    }

    /// A value as a query parameter's value.
    static func query(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }
}
