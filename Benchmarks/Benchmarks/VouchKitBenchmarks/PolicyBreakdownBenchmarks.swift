import Benchmark
import VouchKit

/// The cost of each policy of `CredentialVerifier.standard`: a verifier with no policy measures
/// what `verify` does before any (trim, parse, decode, data model), and a verifier with one policy
/// adds that policy's cost to it. Without a ``SignaturePolicy`` a verifier rejects the credential
/// with exactly one failure saying so; anything else stops the run.
func registerPolicyBreakdown() {
    func ladder(
        _ name: String, signs: Bool,
        @CredentialPolicyBuilder _ policies: @escaping @Sendable (CredentialFixture) -> [any CredentialPolicy]
    ) {
        pairedBenchmark("vc+jwt parts: \(name)", setup: {
            let fixture = try await CredentialFixture.make()
            // A closure value, not a literal, so the builder has already run in `policies`.
            let chosen: () -> [any CredentialPolicy] = { policies(fixture) }
            return (fixture: fixture, verifier: CredentialVerifier(policies: chosen))
        }) { (benchmark: Benchmark, state: (fixture: CredentialFixture, verifier: CredentialVerifier)) in
            for _ in benchmark.scaledIterations {
                let failures = await state.verifier.verify(state.fixture.credential).failures
                if signs {
                    require(failures.isEmpty, "the credential was rejected: \(failures)")
                } else {
                    require(failures.count == 1 && failures[0].check == .signature, "unexpected failures: \(failures)")
                }
            }
        }
    }

    ladder("verifier, no policy", signs: false) { _ in }
    ladder("verifier, MediaTypePolicy only", signs: false) { _ in MediaTypePolicy() }
    ladder("verifier, SignaturePolicy only", signs: true) { _ in SignaturePolicy() }
    ladder("verifier, ValidityPolicy only", signs: false) { _ in ValidityPolicy() }
    ladder("verifier, TrustedIssuerPolicy only", signs: false) { TrustedIssuerPolicy(issuers: [$0.issuerDID.description]) }
    ladder("verifier, StatusPolicy only", signs: false) { StatusPolicy(lists: $0.statusLists) }
}
