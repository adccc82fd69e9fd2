// enroll-load: an enrollment load client that is not Vouch's own code (nor Swift), for measuring
// Vouch's enrollments beside a peer CA's signatures in the same run. Every request gets a fresh key
// and CSR made on the client side, as a device would.
//
//	vouch:  nonce (POST /v1/enrollments/nonce), then POST /v1/enrollments with the CSR, a proof of
//	        possession (a JWS by the device key, kid its did:key) and the group's claim token;
//	cfssl:  POST /api/v1/cfssl/sign with the CSR.
//
// Prints one line: "<requests> <seconds> <requests/s>".
package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

var (
	mode        = flag.String("mode", "vouch", "vouch or cfssl")
	server      = flag.String("url", "http://127.0.0.1:8080", "server URL")
	group       = flag.String("group", "bench", "Vouch enrollment group")
	token       = flag.String("token", "", "the group's claim token")
	keyType     = flag.String("key", "p256", "device key type: p256 or ed25519")
	total       = flag.Int("n", 4000, "requests")
	connections = flag.Int("c", 16, "concurrent connections")
	warmup      = flag.Int("warmup", 200, "requests before the measured ones")
)

func main() {
	flag.Parse()
	transport := &http.Transport{MaxIdleConnsPerHost: *connections, MaxConnsPerHost: *connections}
	client := &http.Client{Transport: transport, Timeout: 60 * time.Second}
	run(client, *warmup)
	start := time.Now()
	run(client, *total)
	elapsed := time.Since(start).Seconds()
	fmt.Printf("%d %.3f %.1f\n", *total, elapsed, float64(*total)/elapsed)
}

func run(client *http.Client, count int) {
	var next int64 = -1
	var wg sync.WaitGroup
	for i := 0; i < *connections; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) < int64(count) {
				if err := one(client); err != nil {
					fmt.Fprintln(os.Stderr, "request failed:", err)
					os.Exit(1)
				}
			}
		}()
	}
	wg.Wait()
}

// A device key, its CSR (PEM) and, for Vouch, the did:key of its public key.
func device() (crypto.Signer, string, string, error) {
	var signer crypto.Signer
	var did string
	switch *keyType {
	case "ed25519":
		public, private, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, "", "", err
		}
		signer = private
		did = "did:key:z" + base58(append([]byte{0xed, 0x01}, public...))
	default:
		private, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, "", "", err
		}
		signer = private
		compressed := elliptic.MarshalCompressed(elliptic.P256(), private.X, private.Y)
		did = "did:key:z" + base58(append([]byte{0x80, 0x24}, compressed...))
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "device"}}, signer)
	if err != nil {
		return nil, "", "", err
	}
	return signer, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), did, nil
}

func one(client *http.Client) error {
	signer, csr, did, err := device()
	if err != nil {
		return err
	}
	if *mode == "cfssl" {
		body, _ := json.Marshal(map[string]string{"certificate_request": csr})
		answer, err := post(client, *server+"/api/v1/cfssl/sign", body)
		if err != nil {
			return err
		}
		if !bytes.Contains(answer, []byte(`"success":true`)) {
			return fmt.Errorf("cfssl did not sign: %s", answer)
		}
		return nil
	}
	nonceAnswer, err := post(client, *server+"/v1/enrollments/nonce", nil)
	if err != nil {
		return err
	}
	var nonce struct{ Nonce string }
	if err := json.Unmarshal(nonceAnswer, &nonce); err != nil || nonce.Nonce == "" {
		return fmt.Errorf("no nonce in %s", nonceAnswer)
	}
	proof, err := jws(signer, did, map[string]string{"nonce": nonce.Nonce, "group": *group})
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{
		"nonce": nonce.Nonce, "group": *group, "csr": csr, "proof": proof,
		"attestation": map[string]string{"claimToken": *token},
	})
	answer, err := post(client, *server+"/v1/enrollments", body)
	if err != nil {
		return err
	}
	if !bytes.Contains(answer, []byte(`"certificate"`)) {
		return fmt.Errorf("no certificate in the enrollment answer: %.300s", answer)
	}
	return nil
}

func post(client *http.Client, url string, body []byte) ([]byte, error) {
	request, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		request.Header.Set("Content-Type", "application/json")
	}
	if *mode == "vouch" {
		request.Header.Set("Prefer", "return=minimal")
	}
	response, err := client.Do(request)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	answer, err := io.ReadAll(response.Body)
	if err != nil {
		return nil, err
	}
	if response.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s answered %d: %.300s", url, response.StatusCode, answer)
	}
	return answer, nil
}

// A compact JWS (typ vouch-pop+jwt) over payload, kid the did:key's verification method.
func jws(signer crypto.Signer, did string, payload map[string]string) (string, error) {
	algorithm := "ES256"
	if _, ok := signer.(ed25519.PrivateKey); ok {
		algorithm = "EdDSA"
	}
	header, _ := json.Marshal(map[string]string{"alg": algorithm, "typ": "vouch-pop+jwt", "kid": did + "#" + did[len("did:key:"):]})
	claims, _ := json.Marshal(payload)
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	var signature []byte
	switch key := signer.(type) {
	case ed25519.PrivateKey:
		signature = ed25519.Sign(key, []byte(input))
	case *ecdsa.PrivateKey:
		digest := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
		if err != nil {
			return "", err
		}
		signature = make([]byte, 64)
		r.FillBytes(signature[:32])
		s.FillBytes(signature[32:])
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(signature), nil
}

const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58btc, as did:key's multibase "z" prefix names it.
func base58(input []byte) string {
	number := new(big.Int).SetBytes(input)
	radix := big.NewInt(58)
	var out []byte
	for number.Sign() > 0 {
		remainder := new(big.Int)
		number.DivMod(number, radix, remainder)
		out = append(out, alphabet[remainder.Int64()])
	}
	for _, b := range input {
		if b != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}
