import ArgumentParser
import VouchKit

/// `vouch keys ...`: device and issuer keys.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Generate signing keys.", subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a key, write its private JWK (mode 0600) and print its did:key on the last line.")

        @Option(help: "Key type: ed25519 or p256.")
        var type: String = "ed25519"

        @Option(help: "Where to write the private JWK.")
        var out: String

        @Flag(help: "Replace an existing file.")
        var force = false

        func run() throws {
            guard let keyType = SigningKey.KeyType(rawValue: type.lowercased()) else {
                throw ValidationError("--type must be ed25519 or p256, not \(type)")
            }
            let key = SigningKey.generate(keyType)
            do {
                try key.write(toFile: out, overwrite: force)
            } catch let error as VouchKitError {
                throw ValidationError(error.reason + (force ? "" : " (use --force to replace it)"))
            }
            print("wrote \(keyType.rawValue) private key to \(out) (mode 0600), kid \(key.publicKey.thumbprint)")
            print(DID(key: key.publicKey))
        }
    }
}
