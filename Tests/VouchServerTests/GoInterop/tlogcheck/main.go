// Command tlogcheck checks transparency-log checkpoints, proofs and leaf hashes with the Go
// reference implementation, golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog, so that
// Vouch's tests can show that what Vouch publishes verifies outside Vouch.
//
// It reads one JSON object on standard input (every key optional):
//
//	{"verifierKeys": ["<name>+<hex key ID>+<base64 key>", ...],
//	 "checkpoint": "<signed note>",
//	 "inclusion": [{"index": N, "size": N, "leafHash": "<b64>", "proof": ["<b64>", ...], "root": "<b64>"}],
//	 "consistency": [{"oldSize": N, "newSize": N, "oldRoot": "<b64>", "newRoot": "<b64>", "proof": [...]}],
//	 "leaves": [{"entry": "<b64 of the entry bytes>", "leafHash": "<b64>"}]}
//
// and writes one JSON object with a verdict for each item, in input order:
//
//	{"checkpoint": {"ok": true, "origin": "...", "size": N, "root": "<b64>"},
//	 "inclusion": [{"ok": false, "error": "..."}], "consistency": [...], "leaves": [...]}
//
// "checkpoint" is left out when the input has none. A rejection is a verdict, not a failure: the
// exit status is 0 unless the input cannot be read or is not the JSON object above (then 2, with
// the reason on standard error).
//
// It builds in GOPATH mode with Debian's golang-golang-x-mod-dev and nothing else:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= CGO_ENABLED=0 go build -o tlogcheck .
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type input struct {
	VerifierKeys []string           `json:"verifierKeys"`
	Checkpoint   *string            `json:"checkpoint"`
	Inclusion    []inclusionInput   `json:"inclusion"`
	Consistency  []consistencyInput `json:"consistency"`
	Leaves       []leafInput        `json:"leaves"`
}

type inclusionInput struct {
	Index    int64    `json:"index"`
	Size     int64    `json:"size"`
	LeafHash string   `json:"leafHash"`
	Proof    []string `json:"proof"`
	Root     string   `json:"root"`
}

type consistencyInput struct {
	OldSize int64    `json:"oldSize"`
	NewSize int64    `json:"newSize"`
	OldRoot string   `json:"oldRoot"`
	NewRoot string   `json:"newRoot"`
	Proof   []string `json:"proof"`
}

type leafInput struct {
	Entry    string `json:"entry"`
	LeafHash string `json:"leafHash"`
}

type output struct {
	Checkpoint  *checkpointVerdict `json:"checkpoint,omitempty"`
	Inclusion   []verdict          `json:"inclusion"`
	Consistency []verdict          `json:"consistency"`
	Leaves      []verdict          `json:"leaves"`
}

type verdict struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

type checkpointVerdict struct {
	OK     bool    `json:"ok"`
	Error  string  `json:"error,omitempty"`
	Origin string  `json:"origin,omitempty"`
	Size   *uint64 `json:"size,omitempty"`
	Root   string  `json:"root,omitempty"`
}

func main() {
	// Read all of standard input before anything else, so that the writer never meets a closed pipe.
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading standard input: %v", err)
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	var in input
	if err := decoder.Decode(&in); err != nil {
		fail("standard input is not the expected JSON object: %v", err)
	}
	if decoder.More() {
		fail("standard input holds more than one JSON value")
	}

	out := output{
		Inclusion:   make([]verdict, 0, len(in.Inclusion)),
		Consistency: make([]verdict, 0, len(in.Consistency)),
		Leaves:      make([]verdict, 0, len(in.Leaves)),
	}
	if in.Checkpoint != nil {
		out.Checkpoint = checkCheckpoint(in.VerifierKeys, *in.Checkpoint)
	}
	for _, item := range in.Inclusion {
		out.Inclusion = append(out.Inclusion, toVerdict(checkInclusion(item)))
	}
	for _, item := range in.Consistency {
		out.Consistency = append(out.Consistency, toVerdict(checkConsistency(item)))
	}
	for _, item := range in.Leaves {
		out.Leaves = append(out.Leaves, toVerdict(checkLeaf(item)))
	}

	encoded, err := json.Marshal(out)
	if err != nil {
		fail("encoding the result: %v", err)
	}
	os.Stdout.Write(append(encoded, '\n'))
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogcheck: "+format+"\n", args...)
	os.Exit(2)
}

func toVerdict(err error) verdict {
	if err != nil {
		return verdict{Error: err.Error()}
	}
	return verdict{OK: true}
}

// checkCheckpoint opens the signed note with the trusted keys, then parses its text as a
// C2SP tlog-checkpoint.
func checkCheckpoint(keys []string, signed string) *checkpointVerdict {
	verifiers := make([]note.Verifier, 0, len(keys))
	for i, key := range keys {
		verifier, err := note.NewVerifier(key)
		if err != nil {
			return &checkpointVerdict{Error: fmt.Sprintf("verifier key %d: %v", i, err)}
		}
		verifiers = append(verifiers, verifier)
	}
	opened, err := note.Open([]byte(signed), note.VerifierList(verifiers...))
	if err != nil {
		return &checkpointVerdict{Error: err.Error()}
	}
	origin, size, root, err := parseCheckpoint(opened.Text)
	if err != nil {
		return &checkpointVerdict{Error: err.Error()}
	}
	return &checkpointVerdict{OK: true, Origin: origin, Size: &size, Root: root.String()}
}

// parseCheckpoint parses a checkpoint body (https://c2sp.org/tlog-checkpoint): an origin line, the
// tree size in decimal without leading zeros, the base64 root hash, then optional non-empty
// extension lines, each line ending in a newline.
func parseCheckpoint(text string) (origin string, size uint64, root tlog.Hash, err error) {
	if !strings.HasSuffix(text, "\n") {
		return "", 0, tlog.Hash{}, errors.New("checkpoint: text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return "", 0, tlog.Hash{}, fmt.Errorf("checkpoint: %d lines, want at least 3", len(lines))
	}
	if lines[0] == "" {
		return "", 0, tlog.Hash{}, errors.New("checkpoint: empty origin")
	}
	size, err = strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return "", 0, tlog.Hash{}, fmt.Errorf("checkpoint: size %q is not a canonical decimal number", lines[1])
	}
	root, err = parseHash(lines[2])
	if err != nil {
		return "", 0, tlog.Hash{}, fmt.Errorf("checkpoint: root hash: %v", err)
	}
	for i, line := range lines[3:] {
		if line == "" {
			return "", 0, tlog.Hash{}, fmt.Errorf("checkpoint: extension line %d is empty", i+1)
		}
	}
	return lines[0], size, root, nil
}

func checkInclusion(item inclusionInput) error {
	leaf, err := parseHash(item.LeafHash)
	if err != nil {
		return fmt.Errorf("leaf hash: %v", err)
	}
	root, err := parseHash(item.Root)
	if err != nil {
		return fmt.Errorf("root: %v", err)
	}
	proof, err := parseHashes(item.Proof)
	if err != nil {
		return err
	}
	return tlog.CheckRecord(tlog.RecordProof(proof), item.Size, root, item.Index, leaf)
}

func checkConsistency(item consistencyInput) error {
	oldRoot, err := parseHash(item.OldRoot)
	if err != nil {
		return fmt.Errorf("old root: %v", err)
	}
	newRoot, err := parseHash(item.NewRoot)
	if err != nil {
		return fmt.Errorf("new root: %v", err)
	}
	proof, err := parseHashes(item.Proof)
	if err != nil {
		return err
	}
	return tlog.CheckTree(tlog.TreeProof(proof), item.NewSize, newRoot, item.OldSize, oldRoot)
}

func checkLeaf(item leafInput) error {
	entry, err := base64.StdEncoding.DecodeString(item.Entry)
	if err != nil {
		return fmt.Errorf("entry: %v", err)
	}
	want, err := parseHash(item.LeafHash)
	if err != nil {
		return fmt.Errorf("leaf hash: %v", err)
	}
	if got := tlog.RecordHash(entry); got != want {
		return fmt.Errorf("tlog.RecordHash(entry) is %v, not %v", got, want)
	}
	return nil
}

// parseHash parses a hash in its only canonical form: padded standard base64 of 32 bytes.
func parseHash(text string) (tlog.Hash, error) {
	hash, err := tlog.ParseHash(text)
	if err != nil {
		return tlog.Hash{}, err
	}
	if hash.String() != text {
		return tlog.Hash{}, fmt.Errorf("hash %q is not canonical base64", text)
	}
	return hash, nil
}

func parseHashes(texts []string) ([]tlog.Hash, error) {
	hashes := make([]tlog.Hash, 0, len(texts))
	for i, text := range texts {
		hash, err := parseHash(text)
		if err != nil {
			return nil, fmt.Errorf("proof hash %d: %v", i, err)
		}
		hashes = append(hashes, hash)
	}
	return hashes, nil
}
