import Foundation
import Synchronization
import VouchCore
import VouchKit
import VouchStore

/// A signed-in operator: which API key signed in, and the form token its pages carry.
struct ConsoleSession: Sendable {
    /// The API key that signed in; its scope is read again on every request.
    var keyID: String
    var keyName: String
    /// The token every state-changing form carries (compared in constant time).
    var csrf: String
    var created: Date
    var lastSeen: Date
}

/// The console's sessions, in this server's memory: a session cookie names one by a random value
/// the server keeps only as its digest. A session ends at sign-out, after `idle` without a
/// request, `lifetime` after sign-in, when its key is revoked, or when the server restarts (the
/// operator signs in again). With several servers behind a balancer, sessions need the balancer
/// to keep an operator on one server.
final class ConsoleSessions: Sendable {
    /// The cookie's name.
    static let cookie = "vouch_console"
    /// A session ends after this long without a request.
    static let idle: TimeInterval = 60 * 60
    /// A session ends this long after sign-in, however busy.
    static let lifetime: TimeInterval = 12 * 60 * 60
    /// The most sessions held: past it, the least recently used goes.
    static let limit = 10_000

    private let sessions = Mutex<[String: ConsoleSession]>([:])

    /// Opens a session for `key`; returns the cookie's value (shown only to the browser).
    func open(key: APIKeyRecord, now: Date) -> (cookie: String, session: ConsoleSession) {
        let cookie = Base64URL.encode(SecureRandom.bytes(32))
        let session = ConsoleSession(keyID: key.id, keyName: key.name, csrf: Base64URL.encode(SecureRandom.bytes(32)), created: now, lastSeen: now)
        sessions.withLock { sessions in
            sessions = sessions.filter { Self.isLive($0.value, now: now) }
            if sessions.count >= Self.limit, let oldest = sessions.min(by: { $0.value.lastSeen < $1.value.lastSeen }) {
                sessions[oldest.key] = nil
            }
            sessions[Secrets.digest(cookie)] = session
        }
        return (cookie, session)
    }

    /// The live session the cookie names, marked as seen now unless `touch` is false (a live
    /// update's stream is not the operator doing something).
    func find(cookie: String, now: Date, touch: Bool = true) -> ConsoleSession? {
        guard cookie.utf8.count == 43 else { return nil }
        let digest = Secrets.digest(cookie)
        return sessions.withLock { sessions in
            guard var session = sessions[digest] else { return nil }
            guard Self.isLive(session, now: now) else {
                sessions[digest] = nil
                return nil
            }
            if touch {
                session.lastSeen = now
                sessions[digest] = session
            }
            return session
        }
    }

    /// Ends the session the cookie names.
    func close(cookie: String) {
        _ = sessions.withLock { $0.removeValue(forKey: Secrets.digest(cookie)) }
    }

    /// Ends every session of a key (it was revoked).
    func close(keyID: String) {
        sessions.withLock { sessions in sessions = sessions.filter { $0.value.keyID != keyID } }
    }

    var count: Int { sessions.withLock { $0.count } }

    private static func isLive(_ session: ConsoleSession, now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeen) < idle && now.timeIntervalSince(session.created) < lifetime
    }
}
