#!/usr/bin/env bash
# Enrollments of a release `vouch serve` (SQLite) beside a peer CA's signatures, side by side in one
# run, both driven by the same load client, which is neither Vouch's code nor Swift
# (enroll-load/main.go, Go's standard library): every request has a fresh key and CSR made by the
# client. The peer is cfssl (Debian's golang-cfssl: `cfssl serve`, POST /api/v1/cfssl/sign, CSR in,
# certificate out) with a P-256 CA, as Vouch's is.
#   Vouch: a nonce, then the enrollment: CSR and proof of possession checked, certificate and
#          identity credential signed, device, certificate, credential and events written.
#   cfssl: the CSR signed.
# Printed: requests/s, and the server's CPU time per request (user + system, from /proc), which moves
# far less than throughput on a shared machine. Target: Vouch's enrollments/s >= 0.5 of cfssl's
# signs/s (server CPU per enrollment <= 0.7 ms). The client and the servers share this machine's cores.
#
# Usage: ./enroll-ratios.sh [--check]    REQUESTS=4000 CONNECTIONS=16 to change the load.
# Needs: go (Debian's golang), cfssl (golang-cfssl), openssl.
set -euo pipefail
cd "$(dirname "$0")"

check=0
[ "${1:-}" = "--check" ] && check=1
requests=${REQUESTS:-4000}
connections=${CONNECTIONS:-16}
for tool in go cfssl openssl; do
    command -v $tool >/dev/null || { echo "$tool is not installed (apt-get install golang golang-cfssl openssl)" >&2; exit 2; }
done

source ./serve.sh
(cd enroll-load && GOFLAGS=-mod=mod GO111MODULE=on GOPROXY=off go build -o "$work/enroll-load" .)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Vouch on SQLite, a group whose claim token has no use limit.
start_server "$work/vouch" "$work/vouch.log"
TOKEN=$(VOUCH_API_KEY=$(cat "$work/vouch/admin-api-key") "$VOUCH" admin group create --server "$SERVER" --name bench --token-uses unlimited | tail -1)

# cfssl with a P-256 CA of its own.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca-key.pem" -out "$work/ca.pem" \
    -subj "/CN=cfssl bench CA" -days 30 2>/dev/null
cfssl_port=$(free_port)
cfssl serve -address 127.0.0.1 -port "$cfssl_port" -ca "$work/ca.pem" -ca-key "$work/ca-key.pem" > "$work/cfssl.log" 2>&1 &
cfssl_pid=$!
pids+=("$cfssl_pid")
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$cfssl_port/api/v1/cfssl/health" && break; sleep 0.1; done

# measure NAME PID ARGS...: "NAME requests/s cpu-ms-per-request"
measure() {
    local name=$1 pid=$2
    shift 2
    local before after line
    before=$(cpu "$pid")
    line=$("$work/enroll-load" -n "$requests" -c "$connections" -warmup 200 "$@")
    after=$(cpu "$pid")
    # The CPU time covers the 200 warm-up requests too; the rate does not.
    python3 -c "import sys; n, s, rate = sys.argv[2].split(); total = int(n) + 200; print(sys.argv[1], rate, (float(sys.argv[4]) - float(sys.argv[3])) / float(sys.argv[5]) * 1000 / total)" \
        "$name" "$line" "$before" "$after" "$ticks"
}

{
    measure cfssl-p256 "$cfssl_pid" -mode cfssl -url "http://127.0.0.1:$cfssl_port" -key p256
    measure vouch-p256 "$server_pid" -mode vouch -url "$SERVER" -group bench -token "$TOKEN" -key p256
    measure vouch-ed25519 "$server_pid" -mode vouch -url "$SERVER" -group bench -token "$TOKEN" -key ed25519
    measure cfssl-p256-again "$cfssl_pid" -mode cfssl -url "http://127.0.0.1:$cfssl_port" -key p256
} > "$work/results"

python3 - "$work/results" "$check" "$requests" "$connections" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, rate, cpu = line.split()
    rows[name] = (float(rate), float(cpu))
check = sys.argv[2] == "1"
peer = (rows["cfssl-p256"][0] + rows["cfssl-p256-again"][0]) / 2
print(f"\n{sys.argv[3]} requests per load, {sys.argv[4]} connections, client: enroll-load (Go); cfssl before and after: "
      f"{rows['cfssl-p256'][0]:,.0f} and {rows['cfssl-p256-again'][0]:,.0f}/s\n")
print(f"{'load':<44} {'requests/s':>11} {'/ cfssl':>8} {'server CPU/request':>19}  target")
labels = {"cfssl-p256": "cfssl sign, P-256 CSR (baseline)", "vouch-p256": "Vouch enrollment (nonce + enroll), P-256",
          "vouch-ed25519": "Vouch enrollment (nonce + enroll), Ed25519", "cfssl-p256-again": "cfssl sign, P-256 CSR (again)"}
missed = []
for name in ["cfssl-p256", "vouch-p256", "vouch-ed25519", "cfssl-p256-again"]:
    rate, cpu = rows[name]
    verdict = ""
    if name.startswith("vouch"):
        ok = rate / peer >= 0.5 and cpu <= 0.7
        verdict = f">= 0.5 and <= 0.7 ms {'met' if ok else 'MISSED'}"
        if not ok:
            missed.append(name)
    print(f"{labels[name]:<44} {rate:>11,.0f} {rate / peer:>8.2f} {cpu:>16.2f} ms  {verdict}")
if missed:
    print(f"\ntargets missed: {', '.join(missed)}")
sys.exit(1 if check and missed else 0)
PY
