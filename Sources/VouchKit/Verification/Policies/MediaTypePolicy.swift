/// The JOSE header names the right media types (`typ` `vc+jwt` and, if present, `cty` `vc` for
/// credentials; `vp+jwt`/`vp` for presentations).
public struct MediaTypePolicy: Sendable {
    /// Creates the policy.
    public init() {}

    func check(_ header: JOSEHeader, type: String, contentType: String) -> PolicyResult {
        var failures: [VerificationFailure] = []
        let typ = header.typ?.lowercased()
        if typ != type && typ != "application/" + type {
            failures.append(VerificationFailure(.mediaType, "typ is \(header.typ.map { "\"\($0)\"" } ?? "missing"), expected \"\(type)\""))
        }
        if let cty = header.cty, cty.lowercased() != contentType, cty.lowercased() != "application/" + contentType {
            failures.append(VerificationFailure(.mediaType, "cty is \"\(cty)\", expected \"\(contentType)\" or none"))
        }
        return failures.isEmpty ? .meetsPolicy : .failsToMeetPolicy(failures)
    }
}

extension MediaTypePolicy: CredentialPolicy {
    public func evaluate(_ candidate: CredentialCandidate) async -> PolicyResult {
        check(candidate.jws.header, type: MediaType.credential, contentType: "vc")
    }
}
