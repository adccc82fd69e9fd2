import Foundation
import SwiftASN1
import Testing
import VouchCore
@testable import VouchKit
import X509

/// The PEM writer enrollments use gives exactly what SwiftASN1 writes, and reads back.
@Suite struct PEMTextTests {
    @Test("every length from 0 to 300 bytes: the same text as PEMDocument, which parses it back to the bytes")
    func sameAsSwiftASN1() throws {
        var generator = SystemRandomNumberGenerator()
        for length in 0...300 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = PEMText.encode(bytes, label: "TEST DATA")
            #expect(text == PEMDocument(type: "TEST DATA", derBytes: bytes).pemString, "length \(length)")
            if length > 0 {
                let parsed = try PEMDocument(pemString: text)
                #expect(parsed.discriminator == "TEST DATA")
                #expect(parsed.derBytes == bytes, "length \(length)")
            }
        }
    }

    @Test("a certificate written by PEMText is read by X509 as the same certificate")
    func certificateRoundTrip() throws {
        let (authority, _) = try CertificateAuthority.bootstrap(name: "PEM test")
        var serializer = DER.Serializer()
        try serializer.serialize(authority.intermediate)
        let text = PEMText.encode(serializer.serializedBytes, label: "CERTIFICATE")
        #expect(text == (try authority.intermediate.serializeAsPEM().pemString))
        #expect(try Certificate(pemEncoded: text) == authority.intermediate)
        #expect(authority.chainPEM == text + "\n" + (try authority.root.serializeAsPEM().pemString) + "\n")
    }
}
