import ArgumentParser
import Foundation
import VouchAPI
import VouchCore
import VouchKit

/// Reading arguments that may name a file (`@FILE`) and other shared input handling.
enum CLIInput {
    /// The argument itself, or the trimmed contents of FILE when it is `@FILE`.
    static func tokenOrFile(_ argument: String) throws -> String {
        if argument.hasPrefix("@") {
            return try readText(String(argument.dropFirst())).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return argument.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The transport to a server named by `--server`, or a usage error.
    static func transport(_ server: String) throws -> URLSessionTransport {
        do {
            return try URLSessionTransport(server: server)
        } catch {
            throw ValidationError("--server must be an http:// or https:// URL, such as http://127.0.0.1:8080")
        }
    }

    /// The text of a file, or a usage error naming it.
    static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path): no such file or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("\(path) is not UTF-8 text")
        }
        return text
    }

    /// A signing key from a private JWK file.
    static func signingKey(_ path: String) throws -> SigningKey {
        do {
            return try SigningKey(contentsOfFile: path)
        } catch let error as VouchKitError {
            throw ValidationError("\(path): \(error.reason)")
        }
    }

    /// A DID, or a usage error.
    static func did(_ text: String, what: String) throws -> DID {
        do {
            return try DID(text)
        } catch let error as VouchKitError {
            throw ValidationError("\(what): \(error.reason)")
        }
    }

    /// A duration such as `90s`, `15m`, `12h`, `30d` or `2w`.
    static func duration(_ text: String) throws -> TimeInterval {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        guard let unit = text.last, let scale = units[unit], let value = Int(text.dropLast()), value > 0,
            TimeInterval(value) * scale <= 100 * 366 * 86_400
        else {
            throw ValidationError("duration \"\(text)\" must be a positive number followed by s, m, h, d or w (e.g. 30d), at most 100 years")
        }
        return TimeInterval(value) * scale
    }

    /// A firmware measurement from `--image FILE` (hashed here) or `--sha256 HEX`, and `--version`.
    static func measurement(image: String?, sha256: String?, version: String) throws -> FirmwareMeasurement {
        switch (image, sha256) {
        case (let path?, nil):
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
            return try FirmwareMeasurement(image: data, version: version)
        case (nil, let digest?):
            return try FirmwareMeasurement(sha256: digest, version: version)
        default:
            throw ValidationError("give --image FILE or --sha256 HEX")
        }
    }

    /// Opens a trust bundle file: the signed token, or JSON `{"trustBundle": token}`. The bundle must be
    /// signed by the authority key it names and unexpired (trust on first use of that authority).
    static func trustBundle(_ path: String) async throws -> TrustBundle {
        var token = try readText(path).trimmingCharacters(in: .whitespacesAndNewlines)
        if token.hasPrefix("{") {
            guard let value = try? JSONValue(parsing: Data(token.utf8)), let inner = value["trustBundle"]?.stringValue else {
                throw ValidationError("\(path) is JSON without a trustBundle member")
            }
            token = inner
        }
        do {
            let contents = try CompactJWS(parsing: token).decodePayload(as: TrustBundle.Contents.self)
            return try await TrustBundle(verifying: token, authority: try DID(contents.authority))
        } catch {
            throw ValidationError("\(path) is not a valid trust bundle: \(error)")
        }
    }

    /// Status lists named on the command line: files made by `vouch status-list new`, or
    /// `BitstringStatusListCredential`s as `vc+jwt` or as an EnvelopedVerifiableCredential JSON,
    /// which must verify and come from a trusted issuer (with its keys from `trust`, the trust
    /// bundle, when it lists them, so that no network is needed). A file that is neither is a usage
    /// error (exit 2); a status list credential that does not verify is a verification failure (exit 1).
    static func statusLists(_ paths: [String], trust: TrustBundle?, trusted: Set<String>, json: Bool) async throws -> [StatusList] {
        var lists: [StatusList] = []
        for path in paths {
            if let file = try? StatusListFile.load(from: path) {
                lists.append(StatusList(url: nil, purpose: file.statusPurpose, list: file.list))
                continue
            }
            let text = try readText(path).trimmingCharacters(in: .whitespacesAndNewlines)
            var token = text
            if text.hasPrefix("{") {
                guard let json = try? JSONValue(parsing: Data(text.utf8)) else {
                    throw ValidationError("\(path) is neither a status list file nor a status list credential")
                }
                if json["type"]?.arrayValue.contains("EnvelopedVerifiableCredential") == true,
                    let id = json["id"]?.stringValue, id.hasPrefix("data:application/vc+jwt,")
                {
                    token = String(id.dropFirst("data:application/vc+jwt,".count))
                } else {
                    throw ValidationError(
                        "\(path) is a JSON document without a JOSE signature; give the status list credential as vc+jwt or as an EnvelopedVerifiableCredential, or a file made by `vouch status-list new`"
                    )
                }
            }
            guard (try? CompactJWS(parsing: token)) != nil else {
                throw ValidationError("\(path) is neither a status list file nor a status list credential")
            }
            do {
                lists.append(try await StatusListCredential.verify(token, trust: trust, trustedIssuers: trusted))
            } catch let error as VouchKitError {
                let failure = VerificationFailure(.status, "status list \(path): \(error.reason)")
                if json {
                    CLIOutput.json(["valid": false, "failures": CLIOutput.failuresJSON([failure])])
                } else {
                    CLIOutput.error("cannot use the status list:")
                    CLIOutput.error("  - \(failure)")
                }
                throw ExitCode(1)
            }
        }
        return lists
    }
}

/// Writing results.
extension CLIInput {
    /// `--kind` options (`vouch events tail`, `vouch webhook`): event kinds or prefixes such as `device.*`, at most 32.
    static func eventKinds(_ kinds: [String]) throws -> [String] {
        for entry in kinds where !EventKind.isPattern(entry) {
            throw ValidationError("--kind \(entry) is not an event kind (lower-case letters, dots and dashes) or a prefix such as device.*")
        }
        guard kinds.count <= 32 else { throw ValidationError("give at most 32 --kind") }
        return kinds
    }
}

enum CLIOutput {
    /// Writes a line to standard error.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Prints a JSON value.
    static func json(_ value: JSONValue) {
        print(String(decoding: value.jsonData(pretty: true), as: UTF8.self))
    }

    /// Prints an API answer as JSON, laid out as ``json(_:)-(JSONValue)`` lays out a value.
    static func json(_ value: some Encodable) {
        guard let parsed = try? JSONValue(encoding: value) else { return error("Error: the answer could not be written as JSON") }
        json(parsed)
    }

    /// The failures as JSON.
    static func failuresJSON(_ failures: [VerificationFailure]) -> JSONValue {
        .array(failures.map { ["check": .string($0.check.rawValue), "reason": .string($0.reason)] })
    }
}
