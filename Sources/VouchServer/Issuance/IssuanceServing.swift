import VouchAPI
import VouchCore
import VouchKit

/// What the public API and the device API ask of issuance: the CA's certificates, revocation
/// artefacts, the trust bundle, and the proofs that go with an issuance.
protocol IssuanceServing: Sendable {
    var publicURL: String { get }
    var clock: ServerClock { get }
    var ca: CertificateAuthority { get }
    /// The issuing CAs whose certificates are in use: the current one first, then the one before a
    /// rotation while what it issued may be.
    var issuingCAs: [CertificateAuthority] { get }
    var firstGenerationCA: CertificateAuthority { get }
    var didDocument: DIDDocument { get throws }
    func certificateRevocationList(of authority: CertificateAuthority) async throws -> [UInt8]
    func rootRevocationList() throws -> [UInt8]
    func ocsp(_ request: [UInt8], path: String?) async throws -> OCSPAnswer
    func ocsp(path: String, decode: () throws -> [UInt8]) async throws -> OCSPAnswer
    func statusListCredential(id: String) async throws -> String
    func trustBundle() async throws -> String
    func withLogReceipts(_ bundle: EnrollmentBundle) async -> EnrollmentBundle
    func withTrustBundle(_ bundle: EnrollmentBundle) async -> EnrollmentBundle
}

extension IssuanceService: IssuanceServing {}
