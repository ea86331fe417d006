#!/usr/bin/env bash
# The fixture lab: rebuilds our users' two-node VXLAN experiments in network
# namespaces, captures at every point on the path and writes
# fixtures/<scenario>/ (pcaps, tshark JSON, manifest.json).
#
#   bash scripts/lab/run.sh [--scenario NAME ...] [--out DIR] [--keep-work]
#
# Needs root (namespaces, captures). Touches nothing in the root namespace:
# every device, address, route, sysctl and nft rule lives in a vxlab-*
# namespace that is deleted on exit, also on failure or Ctrl-C.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LAB_DIR/../.." && pwd)
ALL_SCENARIOS=(p2p-4789 flannel-8472 custom-4899 loss service-nat mtu offload ttl reject-4789)

usage() {
  cat <<EOF
usage: bash scripts/lab/run.sh [--scenario NAME ...] [--out DIR] [--keep-work]
  --scenario NAME  build only this scenario (repeatable); default: all of
                   ${ALL_SCENARIOS[*]}
  --out DIR        write DIR/<scenario>/ instead of fixtures/<scenario>/
  --keep-work      keep the scratch folder (logs, raw ip -j dumps)
EOF
}

SCENARIOS=()
OUT="$REPO_DIR/fixtures"
KEEP_WORK=0
while [ $# -gt 0 ]; do
  case $1 in
    --scenario) [ $# -ge 2 ] || { usage >&2; exit 2; }; SCENARIOS+=("$2"); shift 2 ;;
    --scenario=*) SCENARIOS+=("${1#*=}"); shift ;;
    --out) [ $# -ge 2 ] || { usage >&2; exit 2; }; OUT=$2; shift 2 ;;
    --out=*) OUT=${1#*=}; shift ;;
    --keep-work) KEEP_WORK=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=("${ALL_SCENARIOS[@]}")
for s in "${SCENARIOS[@]}"; do
  [ -f "$LAB_DIR/scenarios/$s.sh" ] || { echo "unknown scenario: $s (known: ${ALL_SCENARIOS[*]})" >&2; exit 2; }
done

# ---------------------------------------------------------------- preflight
if [ "$(id -u)" != 0 ]; then
  echo "the lab needs root (network namespaces, packet capture): run it as root" >&2
  exit 2
fi
missing=() pkgs=()
need() {
  command -v "$1" >/dev/null 2>&1 && return
  missing+=("$1")
  [[ " ${pkgs[*]} " == *" $2 "* ]] || pkgs+=("$2")
}
need ip iproute2
need bridge iproute2
need tcpdump tcpdump
# Only offload turns an offload off.
[[ " ${SCENARIOS[*]} " != *" offload "* ]] || need ethtool ethtool
need tshark tshark
need dumpcap tshark
need capinfos tshark
need nft nftables
need ping iputils-ping
need python3 python3
need node nodejs
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing tools: ${missing[*]}" >&2
  echo "install them with: apt-get install ${pkgs[*]}" >&2
  exit 2
fi

# shellcheck source=lib.sh
. "$LAB_DIR/lib.sh"

LAB_WORK=$(mktemp -d "/tmp/$LAB_TAG-work.$$.XXXXXX")
on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  teardown
  if [ "$KEEP_WORK" = 1 ]; then
    touch "$LAB_WORK/.keep"
    log "scratch folder kept: $LAB_WORK"
  else
    rm -rf "$LAB_WORK"
  fi
  [ "$rc" = 0 ] || log "failed (exit $rc); rerun with --keep-work to keep logs"
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cleanup_stale
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ms() { echo $(( $(date +%s%N) / 1000000 )); }
started=$(ms)

for SCENARIO in "${SCENARIOS[@]}"; do
  t0=$(ms)
  log "building"
  WORK="$LAB_WORK/$SCENARIO"  # this scenario's scratch: logs, raw dumps
  STAGE="$WORK/out"           # the finished folder, moved into $OUT at the end
  mkdir -p "$WORK/logs" "$WORK/traffic" "$STAGE"
  : >"$WORK/setup.tsv"
  TRAFFIC_N=0

  unset -f scenario_setup scenario_capture scenario_traffic
  SC_TITLE= SC_META='{}'
  # shellcheck source=/dev/null
  . "$LAB_DIR/scenarios/$SCENARIO.sh"

  ns_create node1 node2 ns1 ns2
  scenario_setup
  dump_state before
  scenario_capture
  cap_wait_ready
  scenario_traffic
  cap_stop
  dump_state after
  teardown                      # namespaces are gone before post-processing
  chmod 644 "$STAGE"/*          # dumpcap creates its files 0600

  log "tshark views and manifest"
  bash "$LAB_DIR/tshark-json.sh" "$STAGE" "$VX_PORT" "$WORK/tshark-options.txt"
  SCENARIO=$SCENARIO SC_TITLE=$SC_TITLE SC_META=$SC_META VX_DEV=$VX_DEV VX_VNI=$VX_VNI \
    VX_PORT=$VX_PORT BRIDGE=$BRIDGE LAB_NS_PREFIX="$(ns '')" \
    node "$LAB_DIR/manifest.mjs" "$WORK" "$STAGE"

  rm -rf "$OUT/$SCENARIO.old"
  [ ! -e "$OUT/$SCENARIO" ] || mv "$OUT/$SCENARIO" "$OUT/$SCENARIO.old"
  mv "$STAGE" "$OUT/$SCENARIO"
  rm -rf "$OUT/$SCENARIO.old"
  log "done in $(( $(ms) - t0 )) ms -> $OUT/$SCENARIO"
done

log "all done in $(( $(ms) - started )) ms"
