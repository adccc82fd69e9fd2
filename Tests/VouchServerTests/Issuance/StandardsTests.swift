import Foundation
import HTTPTypes
import HummingbirdTesting
import SwiftASN1
import Testing
import VouchCore
import VouchAPI
import VouchKit
import X509

/// What standards ask of the artefacts, read back as a relying party would (issue 14).
@Suite("Standards: serial numbers, caIssuers, status-list positions")
struct StandardsTests {
    /// RFC 5280 §4.1.2.2: positive, at most 20 octets (a first random byte ≥ 0x80 made 21), and
    /// at least 64 random bits (CA/Browser Forum).
    @Test func serialNumbersArePositiveAndAtMostTwentyOctets() async throws {
        for _ in 0..<2000 {
            let serial = CertificateAuthority.newSerialNumber()
            #expect(serial.bytes.count == 20)
            #expect((0x01...0x7F).contains(serial.bytes.first ?? 0), "\(Hex.encode(Array(serial.bytes)))")
        }
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                var certificates = [
                    try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/ca.pem").text),
                    try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/intermediate.pem").text),
                    try Certificate(pemEncoded: try String(contentsOfFile: dir + "/pki/ocsp.pem", encoding: .utf8)),
                ]
                for index in 0..<12 {
                    let (_, answer) = try await RevocationTests.enroll(client, admin: admin, group: "g\(index)")
                    certificates.append(try Certificate(pemEncoded: try #require(answer["certificate"]?.stringValue)))
                }
                for certificate in certificates {
                    // DER of the INTEGER as written: no leading 0x00, so no 21st octet.
                    var serializer = DER.Serializer()
                    try serializer.serialize(certificate)
                    let reparsed = try Certificate(derEncoded: serializer.serializedBytes)
                    #expect(reparsed.serialNumber.bytes.count <= 20)
                    #expect((reparsed.serialNumber.bytes.first ?? 0) < 0x80)
                }
            }
        }
    }

    /// RFC 5280 §4.2.2.1: caIssuers points at a DER certificate (application/pkix-cert).
    @Test func caIssuersServesTheIssuingCertificateAsDER() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let (_, answer) = try await RevocationTests.enroll(client, admin: admin)
                let certificate = try Certificate(pemEncoded: try #require(answer["certificate"]?.stringValue))
                let access = try #require(try certificate.extensions.authorityInformationAccess)
                let issuers = access.compactMap { description -> String? in
                    guard description.method == .issuingCA, case .uniformResourceIdentifier(let url) = description.location else { return nil }
                    return url
                }
                let url = try #require(issuers.first)
                #expect(url == "https://vouch.test/v1/pki/intermediate.crt")
                let fetched = try await client.call(.get, String(url.dropFirst("https://vouch.test".count)))
                #expect(fetched.status == 200)
                #expect(fetched.headers[.contentType] == "application/pkix-cert")
                let issuer = try Certificate(derEncoded: Array(fetched.body))
                #expect(issuer == (try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/intermediate.pem").text)))
                #expect(issuer.subject == certificate.issuer)
                let root = try await client.call(.get, "/v1/pki/ca.crt")
                #expect(root.headers[.contentType] == "application/pkix-cert")
                #expect(try Certificate(derEncoded: Array(root.body)).subject == issuer.issuer)
            }
        }
    }

    /// Bitstring Status List §6.5: positions are not handed out in order (which tells enrollment
    /// order and fleet size); only lists in use are served, and public reads are rate-limited.
    @Test func statusListPositionsAreRandomAndOnlyListsInUseAreServed() async throws {
        // The permutation: every slot of a list gets its own position, all of them within the list.
        let permutation = StatusIndexPermutation(key: Array(repeating: 7, count: 32), listSize: 1024)
        let positions = (0..<2048).map(permutation.index(ofSlot:))
        #expect(Set(positions[..<1024]) == Set(0..<1024))
        #expect(Set(positions[1024...]) == Set(1024..<2048))
        #expect(positions[..<16].map { $0 } != Array(0..<16))
        // Pinned, as an independent HMAC-SHA256 Feistel (Python's hmac) computes them: positions
        // handed out before an upgrade must never move.
        #expect([0, 1, 2, 3, 1024, 1025, 5000].map(permutation.index(ofSlot:)) == [611, 198, 856, 147, 1464, 1495, 4572])
        let full = StatusIndexPermutation(key: Array(repeating: 7, count: 32), listSize: 131_072)
        #expect([0, 1, 131_072, 1_000_000].map(full.index(ofSlot:)) == [46526, 43553, 146_164, 954_039])
        let other = StatusIndexPermutation(key: Array(repeating: 8, count: 32), listSize: 1024)
        #expect((0..<16).map(other.index(ofSlot:)) != Array(positions[..<16]), "another key places the same slots elsewhere")

        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                var indexes: [Int] = []
                var renewed: [Int] = []
                for index in 0..<8 {
                    let device = DeviceAgent()
                    let (id, _) = try await RevocationTests.enroll(client, admin: admin, group: "g\(index)", device: device)
                    if index < 4 {
                        // Renewal, rotation and approval take their positions the same way.
                        let renewal = try await client.call(.post, "/v1/devices/self/renew", as: try await device.accessToken(client, deviceID: id))
                        #expect(renewal.status == 201, "\(renewal.text)")
                        renewed += try claims(of: try #require(renewal.json["identityCredential"]?.stringValue))["credentialStatus"]?.arrayValue
                            .prefix(1).compactMap { $0["statusListIndex"]?.stringValue.flatMap { Int($0) } } ?? []
                    }
                    let detail = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json
                    indexes += (detail["credentials"]?.arrayValue ?? []).compactMap { $0["statusIndex"]?.intValue }
                }
                #expect(renewed.count == 4)
                #expect(zip(renewed.sorted(), renewed.sorted().dropFirst()).contains { $1 - $0 != 1 }, "renewals took consecutive positions: \(renewed)")
                #expect(indexes.count >= 8)
                #expect(Set(indexes).count == indexes.count, "\(indexes)")
                #expect(indexes.allSatisfy { (0..<BitstringStatusList.minimumSize).contains($0) })
                // In order, eight enrollments would sit within the first few dozen positions.
                #expect(indexes.max()! - indexes.min()! > 1000, "\(indexes)")

                #expect(try await client.call(.get, "/v1/status-lists/revocation-0").status == 200)
                expectProblem(try await client.call(.get, "/v1/status-lists/revocation-1"), 404, "no credential has a bit in it")
                expectProblem(try await client.call(.get, "/v1/status-lists/suspension-999999"), 404, "no credential has a bit in it")
            }
            // One a minute for enrollment and authentication is ten for public reads.
            try await withServer(dataDirectory: dir, rateLimitPerMinute: 1) { client, _ in
                var statuses: [Int] = []
                for _ in 0..<30 { statuses.append(try await client.call(.get, "/v1/status-lists/suspension-0").status) }
                #expect(statuses.prefix(10).allSatisfy { $0 == 200 }, "\(statuses)")
                #expect(statuses.filter { $0 == 429 }.count >= 15, "\(statuses)")
                let limited = try await client.call(.get, "/v1/pki/crl")
                #expect(limited.status == 429)
                #expect(limited.headers[.retryAfter] != nil)
                #expect(try await client.call(.get, "/healthz").status == 200)
            }
        }
    }
}
