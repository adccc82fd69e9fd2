import VouchCore
import VouchStore

/// Who is calling, once an authenticator has said: an operator or an enforcement point by its API
/// key, or a device by its access token or client certificate.
enum Caller: Sendable {
    case apiKey(APIKeyIdentity)
    case device(DeviceRecord)

    /// Who did it, for events: `apikey:ID`, `device:ID`.
    var actor: String {
        switch self {
        case .apiKey(let key): "apikey:\(key.id)"
        case .device(let device): "device:\(device.id)"
        }
    }
}

/// An API key as requests carry it: its id and what it may do (never its secret or digest).
struct APIKeyIdentity: Sendable, Hashable {
    var id: String
    var scope: APIScope

    init(_ record: APIKeyRecord) {
        id = record.id
        scope = record.scope
    }

    /// Refuses (403) a key with less than `needed`.
    func require(_ needed: APIScope) throws {
        guard scope >= needed else {
            throw ServiceError.forbidden("this API key has scope \(scope.rawValue); this needs \(needed.rawValue)")
        }
    }
}
