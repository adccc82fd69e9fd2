# Sourced by the scripts that load a release `vouch serve` from outside (http-ratios.sh,
# log-proof-latency.sh, enroll-ratios.sh), from any directory:
#   builds the release `vouch` (VOUCH is its path), makes a scratch directory (work), and removes it
#   and stops the server on exit; other programs to stop on exit go in `pids`.
#   start_server DATA_DIR LOG   starts `$VOUCH serve` on a free port over DATA_DIR, logging to LOG,
#                               and waits until it listens: sets server_pid and SERVER (its URL)
#   stop_server                 stops it and waits for it to end
repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
(cd "$repository" && swift build -c release --product vouch >/dev/null)
VOUCH=$repository/.build/release/vouch
work=$(mktemp -d)
server_pid=""
pids=()
trap 'stop_server; for pid in ${pids[@]+"${pids[@]}"}; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT

start_server() {
    local data=$1 log=$2
    : > "$log"
    "$VOUCH" serve --port 0 --data-dir "$data" --rate-limit 10000000 > "$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do
        grep -q "listening on" "$log" 2>/dev/null && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.1
    done
    SERVER=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\)).*/http:\/\/\1/p' "$log" | head -1)
    [ -n "$SERVER" ] || { echo "the server did not say where it listens" >&2; cat "$log" >&2; exit 1; }
}
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
