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
    /// The most sessions held: past it, sign-in is refused until some end (no one's sign-in ends
    /// another's session).
    static let limit = 10_000
    /// The most sessions of one key: past it, the key's own least recently used session ends.
    static let perKey = 16
    /// The most live-update streams of one session (a few tabs).
    static let streamsPerSession = 4
    /// How long a sign-in form's token stays good.
    static let signInLifetime: TimeInterval = 600

    private let sessions = Mutex<[String: ConsoleSession]>([:])
    /// Sign-in tokens the server handed out and not yet used, by digest, with their expiry.
    private let signInTokens = Mutex<[String: Date]>([:])
    /// Live-update streams open, by session digest.
    private let streams = Mutex<[String: Int]>([:])

    /// A sign-in form's token: good once, for `signInLifetime`.
    func signInToken(now: Date) -> String {
        let token = Base64URL.encode(SecureRandom.bytes(32))
        signInTokens.withLock { tokens in
            if tokens.count >= Self.limit { tokens = tokens.filter { $0.value > now } }
            if tokens.count >= Self.limit, let oldest = tokens.min(by: { $0.value < $1.value }) { tokens[oldest.key] = nil }
            tokens[Secrets.digest(token)] = now.addingTimeInterval(Self.signInLifetime)
        }
        return token
    }

    /// Whether `token` is a sign-in token this server handed out, unused and unexpired; it is used up.
    func takeSignInToken(_ token: String, now: Date) -> Bool {
        guard token.utf8.count == 43 else { return false }
        return signInTokens.withLock { $0.removeValue(forKey: Secrets.digest(token)).map { $0 > now } ?? false }
    }

    /// Opens a session for `key`; returns the cookie's value (shown only to the browser), or nil
    /// when the server holds as many sessions as it takes.
    func open(key: APIKeyRecord, now: Date) -> (cookie: String, session: ConsoleSession)? {
        let cookie = Base64URL.encode(SecureRandom.bytes(32))
        let session = ConsoleSession(keyID: key.id, keyName: key.name, csrf: Base64URL.encode(SecureRandom.bytes(32)), created: now, lastSeen: now)
        return sessions.withLock { sessions in
            if sessions.count >= Self.limit / 2 { sessions = sessions.filter { Self.isLive($0.value, now: now) } }
            let own = sessions.filter { $0.value.keyID == key.id }
            if own.count >= Self.perKey, let oldest = own.min(by: { $0.value.lastSeen < $1.value.lastSeen }) {
                sessions[oldest.key] = nil
            }
            guard sessions.count < Self.limit else { return nil }
            sessions[Secrets.digest(cookie)] = session
            return (cookie, session)
        }
    }

    /// Counts a live-update stream of the session the cookie names; false past `streamsPerSession`.
    func takeStream(cookie: String) -> Bool {
        let digest = Secrets.digest(cookie)
        return streams.withLock { streams in
            guard streams[digest, default: 0] < Self.streamsPerSession else { return false }
            streams[digest, default: 0] += 1
            return true
        }
    }

    func giveStream(cookie: String) {
        let digest = Secrets.digest(cookie)
        streams.withLock { streams in
            streams[digest, default: 1] -= 1
            if streams[digest] == 0 { streams[digest] = nil }
        }
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

    private static func isLive(_ session: ConsoleSession, now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeen) < idle && now.timeIntervalSince(session.created) < lifetime
    }
}
