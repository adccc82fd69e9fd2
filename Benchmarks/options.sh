# Sourced by ratios.sh and server-ratios.sh: reads their options.
#   --check     exit 1 when a target is missed           -> check=1
#   --keep DIR  keep the export in DIR, not a temporary   -> out (the folder to export into)
#   anything else goes to `swift package benchmark`       -> passthrough
check=0
keep=""
passthrough=()
while [ $# -gt 0 ]; do
    case "$1" in
        --check) check=1 ;;
        --keep) keep="$2"; shift ;;
        *) passthrough+=("$1") ;;
    esac
    shift
done

if [ -n "$keep" ]; then
    mkdir -p "$keep"
    out="$(cd "$keep" && pwd)"
else
    out="$(mktemp -d)"
    trap 'rm -rf "$out"' EXIT
fi
