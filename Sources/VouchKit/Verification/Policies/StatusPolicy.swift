import Foundation

/// No `credentialStatus` entry has its bit set: not revoked, not suspended. A status list that
/// cannot be found, is expired, or does not match the entry's purpose fails the check: status is
/// never assumed good.
public struct StatusPolicy: Sendable {
    private let lists: [StatusList]?
    private let now: Date
    private let knownAsOf: Date?
    private let maximumAge: TimeInterval?

    /// Checks against `lists`; `nil` means the trust bundle's verified status lists. With
    /// `knownAsOf` and `maximumAge`, lists known current longer than `maximumAge` seconds ago
    /// (a `StatusFeed` cut off from its authority) fail the check instead of answering for now.
    public init(lists: [StatusList]? = nil, now: Date = Date(), knownAsOf: Date? = nil, maximumAge: TimeInterval? = nil) {
        self.lists = lists
        self.now = now
        self.knownAsOf = knownAsOf
        self.maximumAge = maximumAge
    }

    func check(_ entries: [CredentialStatusEntry], environment: VerificationEnvironment) -> [VerificationFailure] {
        let available = lists ?? environment.trust?.statusLists ?? []
        var failures: [VerificationFailure] = []
        if let knownAsOf, let maximumAge, !entries.isEmpty, now.timeIntervalSince(knownAsOf) > maximumAge {
            let age = knownAsOf == .distantPast ? "was never known current" : "was last known current \(Int(now.timeIntervalSince(knownAsOf))) s ago"
            return [VerificationFailure(.status, "status \(age), longer than the \(Int(maximumAge)) s allowed; the status is unknown")]
        }
        for entry in entries {
            guard entry.type == "BitstringStatusListEntry" else {
                failures.append(VerificationFailure(.status, "status entry type \(entry.type) is not supported"))
                continue
            }
            guard let purpose = StatusPurpose(rawValue: entry.statusPurpose) else {
                failures.append(VerificationFailure(.status, "status purpose \"\(entry.statusPurpose)\" is not revocation or suspension"))
                continue
            }
            guard let index = entry.index else {
                failures.append(VerificationFailure(.status, "statusListIndex \"\(entry.statusListIndex)\" is not a non-negative integer"))
                continue
            }
            // A list published at the entry's URL; otherwise a local list without a URL, if it is the only one of this purpose.
            let list = available.first { $0.url == entry.statusListCredential } ?? Self.soleUnboundList(purpose, in: available)
            guard let list else {
                failures.append(VerificationFailure(.status, "status list \(entry.statusListCredential) is not available, so \(purpose.rawValue) status is unknown"))
                continue
            }
            guard list.purpose == purpose else {
                failures.append(VerificationFailure(.status, "status list \(entry.statusListCredential) is for \(list.purpose.rawValue), the entry asks for \(purpose.rawValue)"))
                continue
            }
            if let validUntil = list.validUntil, validUntil < now {
                failures.append(VerificationFailure(.status, "status list \(entry.statusListCredential) expired at \(RFC3339.format(validUntil))"))
                continue
            }
            guard index < list.list.size else {
                failures.append(VerificationFailure(.status, "status index \(index) is outside the list of \(list.list.size) entries"))
                continue
            }
            if (try? list.list.isSet(index)) ?? true {
                failures.append(VerificationFailure(.status, purpose == .revocation ? "revoked (status list index \(index))" : "suspended (status list index \(index))"))
            }
        }
        return failures
    }

    private static func soleUnboundList(_ purpose: StatusPurpose, in lists: [StatusList]) -> StatusList? {
        var found: StatusList?
        for list in lists where list.url == nil && list.purpose == purpose {
            if found != nil { return nil }
            found = list
        }
        return found
    }
}

extension StatusPolicy: CredentialPolicy {
    public func evaluate(_ candidate: CredentialCandidate) async -> PolicyResult {
        let failures = check(candidate.credential.status, environment: candidate.environment)
        return failures.isEmpty ? .meetsPolicy : .failsToMeetPolicy(failures)
    }
}
