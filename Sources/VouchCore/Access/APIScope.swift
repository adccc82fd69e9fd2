/// What an API key may do.
public enum APIScope: String, Sendable, Codable, CaseIterable, Comparable {
    /// An enforcement point (a broker plugin, a gateway): asks `POST /v1/authorize` on behalf of
    /// real attempts, and reads what deciding on its own takes (`/v1/gateway`: devices' decision
    /// facts, the policy, their changes). Its denials count against the device in monitoring; the
    /// questions of every other key never move a score. It reads nothing else.
    case gateway
    /// Reads everything.
    case readOnly = "read-only"
    /// Reads, manages devices and groups.
    case `operator`
    /// Everything, including API keys.
    case admin

    private var rank: Int {
        switch self {
        case .gateway: -1
        case .readOnly: 0
        case .operator: 1
        case .admin: 2
        }
    }

    public static func < (lhs: APIScope, rhs: APIScope) -> Bool { lhs.rank < rhs.rank }
}

/// The kinds of credential the authority issues a device.
public enum CredentialKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// Names the device: its DID, group, zone, key and attributes.
    case identity = "DeviceIdentityCredential"
    /// One of its roles, with the capabilities the policy in force gives it.
    case role = "DeviceRoleCredential"
}
