import Foundation
import VouchAPI
import VouchKit

extension AuthorizeBody {
    /// Reads the body with VouchKit's one-pass JSON reader: on the decision path, `JSONDecoder`
    /// cost several times the decision itself. Members are the `Codable` ones; others are skipped,
    /// repeated ones refused.
    init(json bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { throw ServiceError.invalidRequest("the request needs a JSON body") }
        var scanner = JSONScanner(bytes)
        var subject: String?
        var action: String?
        var resource: String?
        var nonce: String?
        var audience: String?
        var context: Context?
        do {
            try scanner.readObject { scanner, key in
                func string(_ current: String?) throws -> String {
                    try JSONScanner.once(current != nil, key, in: "the body")
                    return try scanner.readString()
                }
                switch key {
                case "subject": subject = try string(subject)
                case "action": action = try string(action)
                case "resource": resource = try string(resource)
                case "nonce": nonce = try string(nonce)
                case "audience": audience = try string(audience)
                case "context":
                    try JSONScanner.once(context != nil, key, in: "the body")
                    var read = Context()
                    try scanner.readObject { scanner, key in
                        switch key {
                        case "peer": try JSONScanner.once(read.peer != nil, key, in: "context"); read.peer = try scanner.readString()
                        case "sourceAddress":
                            try JSONScanner.once(read.sourceAddress != nil, key, in: "context"); read.sourceAddress = try scanner.readString()
                        case "time": try JSONScanner.once(read.time != nil, key, in: "context"); read.time = try scanner.readString()
                        default: try scanner.skipValue()
                        }
                    }
                    context = read
                default:
                    try scanner.skipValue()
                }
            }
            try scanner.finish()
        } catch let error as VouchKitError {
            throw ServiceError.invalidRequest("the body must be a JSON object with string members subject, action and resource, and context: \(error.reason)")
        }
        guard let subject else { throw ServiceError.invalidRequest("subject is required: a device id, a DID or a vp+jwt") }
        guard let action else { throw ServiceError.invalidRequest("action is required, such as publish") }
        guard let resource else { throw ServiceError.invalidRequest("resource is required, such as telemetry/dev-1/temp") }
        self.init(subject: subject, nonce: nonce, audience: audience, action: action, resource: resource, context: context)
    }
}

extension AuthorizeAnswer {
    /// The answer as JSON.
    var json: JSONValue {
        var members: [String: JSONValue] = [
            "decision": .string(decision), "allowed": .bool(allowed),
            "reasons": .array(reasons.map { reason in
                var members: [String: JSONValue] = ["code": .string(reason.code), "message": .string(reason.message)]
                if let source = reason.source { members["source"] = .string(source) }
                return .object(members)
            }),
        ]
        if let device { members["device"] = .string(device) }
        if let zone { members["zone"] = .string(zone) }
        if let policyVersion { members["policyVersion"] = .number(Double(policyVersion)) }
        return .object(members)
    }
}
