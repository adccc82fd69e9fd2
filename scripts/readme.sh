#!/usr/bin/env bash
# Runs the README's shell blocks in order, as a person pastes them on a fresh machine: one bash
# session (what a block defines, the next uses), from the repository root, against the server the
# Set up section starts (`swift run -c release vouch serve`, with the --mtls-port 8443 the quickstart
# asks for). A command that fails must say so where it is written, with a `# exit N` comment on its
# line, and fail with that status; a command so marked must fail so. A block right after
# `<!-- readme: not run by scripts/readme.sh … -->` is skipped (the set-up block, which this script
# does itself; the benchmarks, which take an hour).
#
# It needs what the README's blocks use: curl, openssl, python3, sqlite3, Mosquitto with its clients
# and headers (mosquitto, mosquitto-clients, mosquitto-dev, libmosquitto-dev) and a PostgreSQL
# cluster on port 5432 (Debian's postgresql package; started here when it is not running), and
# ports 8080, 8081, 8082, 8090, 8091, 8443, 8883, 8884, 9000, 15673 and 25679 free; RabbitMQ
# (rabbitmq-server) for the MQTT section's second broker. It removes the /tmp paths the README names and the data
# directories it makes, before and after. Usage: scripts/readme.sh   (exit 0: every block did what
# the README says)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

# The script the README's blocks make, and where each of its lines comes from (from a copy: what
# is checked at the end is what ran).
cp README.md "$work/README.md"
python3 - "$work/README.md" "$work" <<'PY'
import re, sys
readme, work = sys.argv[1], sys.argv[2]
lines = open(readme).read().split("\n")
script = ["set -E", f"trap 'echo \"$? $LINENO\" >> {work}/failures' ERR"]
origin = [0, 0, 0]  # unused, then the two lines above
paths = set()
i = 0
while i < len(lines):
    if lines[i].startswith("```bash"):
        skip = i > 0 and lines[i - 1].startswith("<!-- readme: not run")
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        if not skip:
            for k in range(i + 1, j):
                script.append(lines[k])
                origin.append(k + 1)
                paths.update(re.findall(r"/tmp/[A-Za-z0-9._-]+", lines[k]))
        i = j
    i += 1
open(f"{work}/blocks.sh", "w").write("\n".join(script) + "\n")
open(f"{work}/origin", "w").write("\n".join(map(str, origin)) + "\n")
open(f"{work}/paths", "w").write("\n".join(sorted(paths)) + "\n")
PY

clean() {
    # The brokers the MQTT section starts, if a failure left them running.
    if [ -f /tmp/mqtt/mosquitto.pid ]; then kill "$(cat /tmp/mqtt/mosquitto.pid)" 2>/dev/null || true; fi
    if [ -f /tmp/rmq/pid ]; then kill "$(cat /tmp/rmq/pid)" 2>/dev/null || true; fi
    while read -r path; do [ -n "$path" ] && rm -rf "$path" "$path".state; done < "$work/paths"
    rm -rf "$root/vouch-data" "$root/vouch-data-pg"
    if command -v psql >/dev/null 2>&1; then
        runuser -u postgres -- psql -q -c "DROP DATABASE IF EXISTS vouch" -c "DROP ROLE IF EXISTS vouch" 2>/dev/null || true
    fi
}

# PostgreSQL as a fresh Debian machine has it: the package's cluster, running.
if command -v pg_lsclusters >/dev/null 2>&1; then
    if [ -z "$(pg_lsclusters -h)" ]; then
        pg_createcluster "$(ls /usr/lib/postgresql | sort -n | tail -1)" main >/dev/null
    fi
    pg_lsclusters -h | while read -r version name _ status _; do
        [ "$status" = online ] || pg_ctlcluster "$version" "$name" start
    done
fi
# The README says `sudo -u postgres …`; a root shell without sudo runs it as runuser would.
if ! command -v sudo >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    mkdir -p "$work/bin"
    printf '#!/bin/sh\n[ "$1" = -u ] || exit 64\nuser=$2; shift 2\nexec runuser -u "$user" -- "$@"\n' > "$work/bin/sudo"
    chmod +x "$work/bin/sudo"
    export PATH="$work/bin:$PATH"
fi
clean

echo "starting the server as the README's Set up section does (the first release build takes about 10 minutes)"
swift run -c release vouch serve --mtls-port 8443 --webhook-allow-private > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 3600); do
    grep -q "^vouch serving" "$work/serve.log" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; echo "the server did not start" >&2; exit 1; }
    sleep 0.5
done
grep -q "^vouch serving" "$work/serve.log" || { tail -20 "$work/serve.log"; echo "the server did not start in 30 minutes" >&2; exit 1; }

echo "running the README's blocks ($(wc -l < "$work/blocks.sh") lines)"
touch "$work/failures"
set +e
timeout 1800 bash "$work/blocks.sh" > "$work/output" 2>&1
status=$?
python3 - "$work/README.md" "$work" "$status" <<'PY'
import re, sys
readme, work, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(readme).read().split("\n")
origin = [int(x) for x in open(f"{work}/origin").read().split()]
def command_range(line):
    """The README lines (1-based) of the command that `line` belongs to (backslash continuations)."""
    start = end = line
    while start > 1 and lines[start - 2].rstrip().endswith("\\"):
        start -= 1
    while lines[end - 1].rstrip().endswith("\\"):
        end += 1
    return start, end
def expected(start, end):
    for k in range(start, end + 1):
        found = re.search(r"#\s*exit (\d+)\b", lines[k - 1])
        if found:
            return int(found.group(1))
    return 0
failures = {}
for row in open(f"{work}/failures").read().split("\n"):
    if not row.strip():
        continue
    code, at = map(int, row.split())
    if at < len(origin) and origin[at] > 0:
        failures.setdefault(command_range(origin[at]), code)
problems = []
if status == 124:
    problems.append("the blocks did not finish in 30 minutes")
for (start, end), code in sorted(failures.items()):
    want = expected(start, end)
    if want != code:
        problems.append(f"README.md:{start}: exited {code}, the README says {want or 'nothing (0)'}: {lines[start - 1].strip()[:120]}")
run = set(origin)
for number, text in enumerate(lines, 1):
    found = re.search(r"#\s*exit (\d+)\b", text)
    if number in run and found and int(found.group(1)) != 0:
        if command_range(number) not in failures:
            problems.append(f"README.md:{number}: the README says exit {found.group(1)}, but it succeeded: {text.strip()[:120]}")
if problems:
    print(open(f"{work}/output").read()[-6000:])
    print("\n".join(problems))
    sys.exit(1)
print(f"every README block ran as written ({len(failures)} expected refusals)")
PY
result=$?
set -e
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
server=
clean
exit $result
