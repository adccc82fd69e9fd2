import Foundation

/// `GET /v1/log/entries`.
public struct LogEntries: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var index: UInt64
        /// The entry exactly as hashed: the event's canonical JSON.
        public var entry: String

        public init(index: UInt64, entry: String) {
            self.index = index
            self.entry = entry
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }
}

/// `GET /v1/log/proof/inclusion`: hashes base64.
public struct InclusionProofAnswer: Codable, Sendable {
    public var index: UInt64
    public var treeSize: UInt64
    public var leafHash: String
    public var entry: String
    public var inclusionProof: [String]
    /// The signed checkpoint of `treeSize`, when it is the one published.
    public var checkpoint: String?

    public init(index: UInt64, treeSize: UInt64, leafHash: String, entry: String, inclusionProof: [String], checkpoint: String? = nil) {
        self.index = index
        self.treeSize = treeSize
        self.leafHash = leafHash
        self.entry = entry
        self.inclusionProof = inclusionProof
        self.checkpoint = checkpoint
    }
}

/// `GET /v1/log/proof/consistency`: hashes base64.
public struct ConsistencyProofAnswer: Codable, Sendable {
    public var from: UInt64
    public var to: UInt64
    public var proof: [String]

    public init(from: UInt64, to: UInt64, proof: [String]) {
        self.from = from
        self.to = to
        self.proof = proof
    }
}

/// `POST /v1/log/cosignatures`'s answer.
public struct CosignatureReceipt: Codable, Sendable {
    public var size: UInt64
    /// How many witnesses have cosigned the pending checkpoint.
    public var cosignatures: Int
    public var quorum: Int
    /// Whether the checkpoint is now published.
    public var published: Bool

    public init(size: UInt64, cosignatures: Int, quorum: Int, published: Bool) {
        self.size = size
        self.cosignatures = cosignatures
        self.quorum = quorum
        self.published = published
    }
}
