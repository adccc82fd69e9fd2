#!/usr/bin/env bash
# The MQTT data plane (issue 19), measured from outside with Debian's mosquitto and its clients
# against a release `vouch serve` and the release plugin, in one run:
#   throughput: the same load through one broker without the plugin and one with it (TLS with
#     client certificates both; without the plugin every client is allowed everything), as messages
#     per second a subscriber receives: PUBLISHERS publishers (mosquitto_pub -l, QoS 1) each send
#     MESSAGES/PUBLISHERS lines on their own telemetry topic, one subscriber (QoS 1) takes them all.
#     Each broker is run ROUNDS times, alternately. Target: with ÷ without >= 0.85.
#   revocation → disconnect: REVOCATIONS devices connected with mosquitto_sub; each is revoked
#     (POST /v1/admin/devices/ID/revoke) and timed from the request until its client sees the
#     connection closed; p50 and p99.
# The broker, the clients and the server share this machine's cores.
#
# Usage: ./broker-ratios.sh [--check]   MESSAGES=200000 PUBLISHERS=4 ROUNDS=2 REVOCATIONS=100 to change it.
# Needs: mosquitto, mosquitto-clients, mosquitto-dev, libmosquitto-dev, openssl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[ "${1:-}" = "--check" ] && check=1
messages=${MESSAGES:-200000}
publishers=${PUBLISHERS:-4}
rounds=${ROUNDS:-2}
revocations=${REVOCATIONS:-100}
for tool in mosquitto mosquitto_pub mosquitto_sub openssl python3; do
    command -v $tool >/dev/null || { echo "$tool is not installed (apt-get install mosquitto mosquitto-clients openssl python3)" >&2; exit 2; }
done

source Benchmarks/serve.sh
(cd Integrations/Mosquitto && swift build -c release >/dev/null)
PLUGIN=$PWD/Integrations/Mosquitto/.build/release/libvouch-mosquitto.so

start_server "$work/data" "$work/serve.log"
export VOUCH_API_KEY=$(cat "$work/data/admin-api-key")
cat > "$work/policy.yaml" <<'END'
roles:
  sensor:
    allow: ["publish:telemetry/${device.id}/#", "subscribe:commands/${device.id}/#", "receive:commands/${device.id}/#"]
  console:
    allow: ["subscribe:telemetry/#", "receive:telemetry/#"]
END
"$VOUCH" policy upload "$work/policy.yaml" --server "$SERVER" >/dev/null
SENSORS=$("$VOUCH" admin group create --server "$SERVER" --name sensors --role sensor --token-uses unlimited | tail -1)
CONSOLES=$("$VOUCH" admin group create --server "$SERVER" --name consoles --role console --token-uses unlimited | tail -1)
"$VOUCH" device enroll --server "$SERVER" --group consoles --token "$CONSOLES" --dir "$work/console" | tail -1 > "$work/console.id"
for i in $(seq 1 $((publishers > revocations ? publishers : revocations))); do
    "$VOUCH" device enroll --server "$SERVER" --group sensors --token "$SENSORS" --dir "$work/dev$i" | tail -1 > "$work/dev$i.id"
done
"$VOUCH" admin api-key create --server "$SERVER" --name mosquitto --scope gateway | tail -1 > "$work/gateway-key"
chmod 600 "$work/gateway-key"
curl -sf "$SERVER/v1/pki/chain.pem" > "$work/vouch-ca.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/broker-key.pem" -out "$work/broker.pem" \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 2>/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
# broker NAME WITH_PLUGIN: a config for it; prints its port.
broker() {
    local name=$1 plugin=$2 port
    port=$(free_port)
    {
        echo "user $(id -un)"
        echo "per_listener_settings false"
        echo "log_dest file $work/$name.log"
        echo "max_queued_messages 1000000"
        if [ "$plugin" = 1 ]; then
            echo "allow_anonymous false"
            echo "plugin $PLUGIN"
            echo "plugin_opt_vouch_url $SERVER"
            echo "plugin_opt_api_key_file $work/gateway-key"
        else
            echo "allow_anonymous true"
        fi
        echo "listener $port 127.0.0.1"
        echo "cafile $work/vouch-ca.pem"
        echo "certfile $work/broker.pem"
        echo "keyfile $work/broker-key.pem"
        echo "require_certificate true"
    } > "$work/$name.conf"
    echo "$port"
}
PLAIN_PORT=$(broker plain 0)
VOUCH_PORT=$(broker vouch 1)

python3 - "$work" "$messages" "$publishers" "$rounds" "$revocations" "$PLAIN_PORT" "$VOUCH_PORT" "$SERVER" "$VOUCH_API_KEY" "$check" <<'PY'
import json, os, statistics, subprocess, sys, time, urllib.request
work, messages, publishers, rounds, revocations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
plain_port, vouch_port, server, key, check = int(sys.argv[6]), int(sys.argv[7]), sys.argv[8], sys.argv[9], sys.argv[10] == "1"

def device(name):
    d = f"{work}/{name}"
    return open(f"{d}.id").read().strip(), f"{d}/cert.pem", f"{d}/key.pem"

def tls(port, name, client_id=None):
    ident, cert, key_file = device(name)
    return ["-h", "127.0.0.1", "-p", str(port), "--cafile", f"{work}/broker.pem", "--cert", cert, "--key", key_file, "-V", "mqttv5",
            "-i", client_id or ident]

def start_broker(name):
    log = f"{work}/{name}.log"
    open(log, "w").close()
    process = subprocess.Popen(["mosquitto", "-c", f"{work}/{name}.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        text = open(log).read()
        if ("vouch: loaded" in text) if name == "vouch" else ("running" in text):
            return process
        time.sleep(0.05)
    process.kill()
    sys.exit(f"mosquitto ({name}) did not start: {open(log).read()[-2000:]}")

per = messages // publishers
for i in range(1, publishers + 1):
    ident = device(f"dev{i}")[0]
    with open(f"{work}/lines{i}", "w") as f:
        f.write(("21.5\n") * per)

def load(name, port):
    broker = start_broker(name)
    try:
        console = device("console")[0]
        sub = subprocess.Popen(["mosquitto_sub"] + tls(port, "console") + ["-q", "1", "-t", "telemetry/#", "-C", str(per * publishers), "-W", "600"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)  # subscribed
        # PERF=FILE: the broker with the plugin is profiled (perf record -g) during its load.
        profiler = None
        if os.environ.get("PERF") and name == "vouch":
            profiler = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(broker.pid), "-o", os.environ["PERF"]],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        start = time.time()
        pubs = []
        for i in range(1, publishers + 1):
            ident = device(f"dev{i}")[0]
            pubs.append(subprocess.Popen(["mosquitto_pub"] + tls(port, f"dev{i}", ident + "-pub") + ["-q", "1", "-t", f"telemetry/{ident}/t", "-l"],
                                         stdin=open(f"{work}/lines{i}"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        for p in pubs:
            p.wait()
        code = sub.wait()
        elapsed = time.time() - start
        if profiler:
            profiler.send_signal(2)
            profiler.wait()
        if code != 0:
            sys.exit(f"the subscriber on {name} did not receive every message (exit {code}): {sub.stderr.read().decode()[-500:]}")
        return per * publishers / elapsed
    finally:
        broker.terminate()
        broker.wait()

rates = {"plain": [], "vouch": []}
for _ in range(rounds):
    for name, port in (("plain", plain_port), ("vouch", vouch_port)):
        rates[name].append(load(name, port))
        print(f"{name}: {rates[name][-1]:,.0f} messages/s", flush=True)

# Revocation → disconnect.
broker = start_broker("vouch")
latencies = []
try:
    subs = []
    for i in range(1, revocations + 1):
        ident = device(f"dev{i}")[0]
        # Line-buffered (stdbuf): the SUBACK line must reach the pipe as it is printed.
        subs.append((ident, subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub"] + tls(vouch_port, f"dev{i}") + ["-q", "1", "-t", f"commands/{ident}/#", "-d"],
                                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    for ident, sub in subs:
        # Subscribed once -d says the SUBACK came.
        for line in sub.stdout:
            if "received SUBACK" in line:
                break
    for ident, sub in subs:
        request = urllib.request.Request(f"{server}/v1/admin/devices/{ident}/revoke", method="POST", data=b"{}",
                                         headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        start = time.time()
        urllib.request.urlopen(request).read()
        sub.wait(timeout=30)
        latencies.append((time.time() - start) * 1000)
finally:
    broker.terminate()
    broker.wait()

latencies.sort()
p50 = latencies[len(latencies) // 2]
p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
plain = statistics.median(rates["plain"])
vouch = statistics.median(rates["vouch"])
print(f"\n{messages} messages per load ({publishers} publishers, QoS 1, TLS with client certificates), {rounds} rounds; one subscriber")
print(f"{'load':<46} {'messages/s':>11}")
print(f"{'mosquitto without the plugin (baseline)':<46} {plain:>11,.0f}   runs: {', '.join(f'{r:,.0f}' for r in rates['plain'])}")
print(f"{'mosquitto with the Vouch plugin':<46} {vouch:>11,.0f}   runs: {', '.join(f'{r:,.0f}' for r in rates['vouch'])}")
ratio = vouch / plain
print(f"with ÷ without: {ratio:.2f} (target >= 0.85)")
print(f"revocation → disconnect over {len(latencies)} revocations: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {latencies[-1]:.0f} ms (target < 1000 ms)")
if check and (ratio < 0.85 or latencies[-1] >= 1000):
    sys.exit(1)
PY
