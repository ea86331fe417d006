# shellcheck shell=bash
# Helpers for the fixture lab: namespaces, topology pieces, captures, logging.
# Sourced by run.sh; every function works on logical labels (node1, ns1, ...)
# so that scenario files and logs read like the primer, while the real
# namespace names carry a unique prefix (vxlab-<pid>-<scenario>-<label>).

LAB_TAG=vxlab                 # every namespace this lab makes starts with this
LAB_NAMESPACES=()             # real names of the namespaces of the running scenario
CAP_PIDS=()                   # capture processes of the running scenario
CAP_LOGS=()                   # ... their stderr
CAP_READY=()                  # ... and what they print once really capturing

log() { printf '[lab %s] %s\n' "${SCENARIO:-*}" "$*" >&2; }
die() { printf '[lab %s] error: %s\n' "${SCENARIO:-*}" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- namespaces

ns() { printf '%s-%s-%s-%s' "$LAB_TAG" "$$" "$SCENARIO" "$1"; }

ns_create() {
  local label name
  for label in "$@"; do
    name=$(ns "$label")
    ip netns add "$name"
    LAB_NAMESPACES+=("$name")
    # Set before any device exists so no device ever gets an IPv6 link-local
    # address (no router solicitations or MLD reports in the captures).
    ip netns exec "$name" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
      net.ipv6.conf.default.disable_ipv6=1
    # New namespaces inherit rp_filter from the host on some setups; the
    # routes via vxlan devices are asymmetric enough to trip strict mode.
    ip netns exec "$name" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
      net.ipv4.conf.default.rp_filter=0
    ip -n "$name" link set lo up
  done
}

# Quote a command for the manifest so it can be pasted back into a shell.
shquote() {
  local a out=() q="'"
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then out+=("$a")
    else out+=("$q${a//$q/$q\\$q$q}$q"); fi
  done
  printf '%s' "${out[*]}"
}

# Run a setup command inside a namespace and keep it, with the logical label,
# for the manifest: the manifest then says how to rebuild the topology by hand.
nsx() {
  local label=$1; shift
  printf '%s\t%s\n' "$label" "$(shquote "$@")" >>"$WORK/setup.tsv"
  ip netns exec "$(ns "$label")" "$@"
}

# Traffic commands are kept with their output and exit status: ping's summary
# line is part of what the fixture shows (e.g. 40% packet loss).
TRAFFIC_N=0
traffic() {
  local label=$1; shift
  local d
  TRAFFIC_N=$((TRAFFIC_N + 1))
  d=$(printf '%s/traffic/%02d' "$WORK" "$TRAFFIC_N")
  mkdir -p "$d"
  printf '%s' "$label" >"$d/ns"
  shquote "$@" >"$d/cmd"
  local rc=0
  ip netns exec "$(ns "$label")" "$@" >"$d/out" 2>&1 || rc=$?
  printf '%s' "$rc" >"$d/rc"
  sed "s/^/[$label] /" "$d/out" >&2
  return 0
}

# Kill what runs inside our namespaces (captures, servers), then delete them.
# Deleting a namespace does not end its processes, and a process left behind
# keeps the namespace (and its devices) alive.
ns_kill_all() {
  local name pids
  name=$1
  pids=$(ip netns pids "$name" 2>/dev/null || true)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    sleep 0.3
    pids=$(ip netns pids "$name" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  fi
}

ns_delete() {
  local name=$1
  ns_kill_all "$name"
  ip netns delete "$name" 2>/dev/null || true
}

teardown() {
  local name
  for name in "${LAB_NAMESPACES[@]}"; do ns_delete "$name"; done
  # Also any namespace of this run that a failure left out of the list.
  while read -r name _; do
    case $name in "$LAB_TAG-$$-"*) ns_delete "$name" ;; esac
  done < <(ip netns list 2>/dev/null)
  LAB_NAMESPACES=()
  CAP_PIDS=()
  CAP_LOGS=()
  CAP_READY=()
}

# Is PID a running lab (and not some process that got a dead lab's PID)?
lab_alive() {
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q 'run\.sh'
}

# Namespaces left by an earlier run that died (kill -9, power loss). A
# namespace whose owner is a live lab run is left alone, so that two runs
# (e.g. a test building into a temp folder) can work side by side.
cleanup_stale() {
  local name owner
  while read -r name _; do
    case $name in "$LAB_TAG"-*) ;; *) continue ;; esac
    owner=${name#"$LAB_TAG"-}; owner=${owner%%-*}
    [ "$owner" != "$$" ] || continue
    lab_alive "$owner" && continue
    log "removing stale namespace $name"
    ns_delete "$name"
  done < <(ip netns list 2>/dev/null)
  for name in /tmp/"$LAB_TAG"-work.*; do
    [ -d "$name" ] || continue
    owner=${name#/tmp/"$LAB_TAG"-work.}; owner=${owner%%.*}
    # a folder kept on purpose with --keep-work stays
    [ "$owner" != "$$" ] && [ ! -e "$name/.keep" ] || continue
    lab_alive "$owner" && continue
    rm -rf "$name"
  done
}

# ---------------------------------------------------------------- topology

# Readable, deterministic, locally administered MACs derived from an IPv4
# address, in the spirit of Docker's 02:42:<ip>: 02:<kind>:<ip as hex>.
# kind 00 = the device that holds the address, 01 = its bridge-side peer.
mac_of() {
  local kind=$1 ip=$2 a b c d
  IFS=. read -r a b c d <<<"$ip"
  printf '02:%s:%02x:%02x:%02x:%02x' "$kind" "$a" "$b" "$c" "$d"
}

# The underlay: one veth pair, both ends named eth0, created inside node1
# with its peer born in node2, so it never exists in the root namespace.
build_underlay() {
  local mtu=${1:-1500}
  nsx node1 ip link add eth0 address "$(mac_of 00 10.211.55.122)" mtu "$mtu" type veth \
    peer name eth0 address "$(mac_of 00 10.211.55.123)" mtu "$mtu" netns "$(ns node2)"
  nsx node1 ip addr add 10.211.55.122/24 dev eth0
  nsx node2 ip addr add 10.211.55.123/24 dev eth0
  nsx node1 ip link set eth0 up
  nsx node2 ip link set eth0 up
  nsx node1 sysctl -qw net.ipv4.ip_forward=1
  nsx node2 sysctl -qw net.ipv4.ip_forward=1
}

# build_bridge NODE NAME CIDR MTU
build_bridge() {
  local node=$1 br=$2 cidr=$3 mtu=$4
  # Multicast snooping off: otherwise the bridge sends IGMP queries/reports.
  nsx "$node" ip link add "$br" address "$(mac_of 00 "${cidr%/*}")" mtu "$mtu" type bridge \
    mcast_snooping 0 stp_state 0
  nsx "$node" ip addr add "$cidr" dev "$br"
  nsx "$node" ip link set "$br" up
}

# build_pod NODE POD BRIDGE POD_IF BRIDGE_IF POD_CIDR MTU
# The pod end is born in the pod namespace, the other end in the node.
build_pod() {
  local node=$1 pod=$2 br=$3 podif=$4 brif=$5 cidr=$6 mtu=$7 ip=${6%/*}
  nsx "$node" ip link add "$brif" address "$(mac_of 01 "$ip")" mtu "$mtu" type veth \
    peer name "$podif" address "$(mac_of 00 "$ip")" mtu "$mtu" netns "$(ns "$pod")"
  nsx "$node" ip link set "$brif" master "$br" up
  nsx "$pod" ip addr add "$cidr" dev "$podif"
  nsx "$pod" ip link set "$podif" up
}

# The primer's static point-to-point VTEP: fixed remote, learning on, an
# on-link route to the peer pod network via the peer's /32 VTEP address.
# vxlan_p2p NODE LOCAL_IP REMOTE_IP VTEP_ADDR PEER_NET PEER_VTEP_ADDR MTU
vxlan_p2p() {
  local node=$1 lip=$2 rip=$3 vtep=$4 peernet=$5 peervtep=$6 mtu=$7
  nsx "$node" ip link add "$VX_DEV" address "$(mac_of 00 "$vtep")" mtu "$mtu" type vxlan \
    id "$VX_VNI" dstport "$VX_PORT" remote "$rip" local "$lip" dev eth0
  nsx "$node" ip addr add "$vtep/32" dev "$VX_DEV"
  nsx "$node" ip link set "$VX_DEV" up
  nsx "$node" ip route add "$peernet" via "$peervtep" dev "$VX_DEV" onlink
}

# flannel's VTEP: no remote, no learning; the peer is known only through a
# static neighbour entry and an FDB entry mapping its MAC to its node IP, so
# no ARP ever crosses the tunnel.
# vxlan_nolearning NODE LOCAL_IP VTEP_CIDR MTU
vxlan_nolearning() {
  local node=$1 lip=$2 cidr=$3 mtu=$4
  nsx "$node" ip link add "$VX_DEV" address "$(mac_of 00 "${cidr%/*}")" mtu "$mtu" type vxlan \
    id "$VX_VNI" dstport "$VX_PORT" local "$lip" dev eth0 nolearning
  nsx "$node" ip addr add "$cidr" dev "$VX_DEV"
  nsx "$node" ip link set "$VX_DEV" up
}

# vxlan_peer NODE PEER_VTEP_IP PEER_NODE_IP
vxlan_peer() {
  local node=$1 pvtep=$2 pnode=$3 mac
  mac=$(mac_of 00 "$pvtep")
  nsx "$node" ip neigh add "$pvtep" lladdr "$mac" dev "$VX_DEV" nud permanent
  nsx "$node" bridge fdb append "$mac" dst "$pnode" dev "$VX_DEV"
}

# nft_apply LABEL NAME: load the ruleset on stdin into a namespace; the text
# is kept for the manifest as NAME.nft.
nft_apply() {
  local label=$1 name=$2
  cat >"$WORK/$name.nft"
  printf '%s\t%s\n' "$label" "nft -f $name.nft" >>"$WORK/setup.tsv"
  ip netns exec "$(ns "$label")" nft -f "$WORK/$name.nft"
}

# The primer's static experiment; the MTUs are parameters because the mtu
# scenario gets them wrong on purpose. topology_static POD_MTU VXLAN_MTU
topology_static() {
  local podmtu=${1:-1500} vxmtu=${2:-1450}
  build_underlay 1500
  build_bridge node1 br0 10.244.1.1/24 "$podmtu"
  build_bridge node2 br0 10.244.2.1/24 "$podmtu"
  build_pod node1 ns1 br0 veth1a veth1b 10.244.1.2/24 "$podmtu"
  build_pod node2 ns2 br0 veth2a veth2b 10.244.2.2/24 "$podmtu"
  vxlan_p2p node1 10.211.55.122 10.211.55.123 10.244.1.0 10.244.2.0/24 10.244.2.0 "$vxmtu"
  vxlan_p2p node2 10.211.55.123 10.211.55.122 10.244.2.0 10.244.1.0/24 10.244.1.0 "$vxmtu"
  nsx ns1 ip route add 10.244.2.0/24 via 10.244.1.1 dev veth1a
  nsx ns2 ip route add 10.244.1.0/24 via 10.244.2.1 dev veth2a
}

# flannel's layout: cni0, flannel.1 (/32, nolearning, static neighbour+FDB),
# underlay MTU 1450 and everything above it 1400, pods with a default route.
topology_flannel() {
  build_underlay 1450
  build_bridge node1 cni0 10.244.1.1/24 1400
  build_bridge node2 cni0 10.244.2.1/24 1400
  build_pod node1 ns1 cni0 veth1a veth1b 10.244.1.2/24 1400
  build_pod node2 ns2 cni0 veth2a veth2b 10.244.2.2/24 1400
  vxlan_nolearning node1 10.211.55.122 10.244.1.0/32 1400
  vxlan_nolearning node2 10.211.55.123 10.244.2.0/32 1400
  vxlan_peer node1 10.244.2.0 10.211.55.123
  vxlan_peer node2 10.244.1.0 10.211.55.122
  nsx node1 ip route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
  nsx node2 ip route add 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink
  nsx ns1 ip route add default via 10.244.1.1 dev veth1a
  nsx ns2 ip route add default via 10.244.2.1 dev veth2a
}

# http_server POD ADDR PORT: serves "hello from POD" from httpd.py.
http_server() {
  local pod=$1 addr=$2 port=$3 tries=0
  mkdir -p "$WORK/www"
  printf 'hello from %s\n' "$pod" >"$WORK/www/index.html"
  printf '%s\t%s\n' "$pod" "python3 scripts/lab/httpd.py $addr $port www &" >>"$WORK/setup.tsv"
  ip netns exec "$(ns "$pod")" python3 "$LAB_DIR/httpd.py" "$addr" "$port" "$WORK/www" \
    >"$WORK/logs/http-$pod.log" 2>&1 &
  disown "$!"                   # ended by teardown; keeps bash from reporting it
  until ip netns exec "$(ns "$pod")" ss -Hltn "sport = :$port" | grep -q LISTEN; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || die "http server in $pod did not start: $(cat "$WORK/logs/http-$pod.log")"
    sleep 0.1
  done
}

# ---------------------------------------------------------------- captures

# cap_start LABEL IFACE FILE [tool args...]: tcpdump by default.
# --immediate-mode: with TPACKET_V3 block buffering, packets of a block not
# yet handed over when SIGINT arrives are lost; immediate mode avoids that.
# -Z root: Debian's tcpdump drops to user tcpdump, which may not write here.
cap_start() {
  local label=$1 iface=$2 file=$3; shift 3
  local logf="$WORK/logs/$(basename "$file").log"
  ip netns exec "$(ns "$label")" tcpdump -U --immediate-mode -Z root -n -i "$iface" \
    -w "$file" "$@" >"$logf" 2>&1 &
  CAP_PIDS+=("$!")
  CAP_LOGS+=("$logf")
  CAP_READY+=("listening on")   # printed once the socket is bound
}

# dumpcap writes pcapng natively, one IDB per interface.
cap_start_dumpcap() {
  local label=$1 file=$2; shift 2
  local logf="$WORK/logs/$(basename "$file").log"
  ip netns exec "$(ns "$label")" dumpcap -q "$@" -w "$file" >"$logf" 2>&1 &
  CAP_PIDS+=("$!")
  CAP_LOGS+=("$logf")
  # Not "Capturing on ...": dumpcap prints that before it opens the
  # interfaces; "File: ..." comes once they are open and the file exists.
  CAP_READY+=("File: ")
}

# Traffic must not start before every capture is really capturing.
cap_wait_ready() {
  local i logf tries
  for i in "${!CAP_PIDS[@]}"; do
    logf=${CAP_LOGS[$i]}
    tries=0
    until grep -qF "${CAP_READY[$i]}" "$logf" 2>/dev/null; do
      kill -0 "${CAP_PIDS[$i]}" 2>/dev/null || die "capture failed: $(cat "$logf")"
      tries=$((tries + 1))
      [ "$tries" -lt 100 ] || die "capture did not start in 10 s: $logf"
      sleep 0.1
    done
  done
}

cap_stop() {
  local pid
  # Let the last replies and FINs pass every capture point first.
  sleep 0.5
  for pid in "${CAP_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${CAP_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  CAP_PIDS=()
  CAP_LOGS=()
  CAP_READY=()
}

# The eight standard capture points of a two-node experiment.
# cap_path BRIDGE VXDEV [TCPDUMP-OPTION ...]
cap_path() {
  local br=$1 vx=$2; shift 2   # the rest: tcpdump options for every capture
  cap_start ns1 veth1a "$STAGE/ns1-veth1a.pcap" "$@"
  cap_start node1 "$br" "$STAGE/node1-$br.pcap" "$@"
  cap_start node1 "$vx" "$STAGE/node1-$vx.pcap" "$@"
  cap_start node1 eth0 "$STAGE/node1-eth0.pcap" "$@"
  cap_start node2 eth0 "$STAGE/node2-eth0.pcap" "$@"
  cap_start node2 "$vx" "$STAGE/node2-$vx.pcap" "$@"
  cap_start node2 "$br" "$STAGE/node2-$br.pcap" "$@"
  cap_start ns2 veth2a "$STAGE/ns2-veth2a.pcap" "$@"
}

# Read back what was really configured, for the manifest: "before" right
# before the captures start (the static state), "after" once traffic is done
# (learned neighbours, nft counters).
dump_state() {
  local when=$1 label name d="$WORK/state-$1"
  mkdir -p "$d"
  for label in node1 node2 ns1 ns2; do
    name=$(ns "$label")
    ip -n "$name" -j -d link show >"$d/$label.link.json"
    ip -n "$name" -j addr show >"$d/$label.addr.json"
    ip -n "$name" -j route show >"$d/$label.route.json"
    ip -n "$name" -j neigh show >"$d/$label.neigh.json"
    bridge -n "$name" -j fdb show >"$d/$label.fdb.json" 2>/dev/null || echo '[]' >"$d/$label.fdb.json"
    ip netns exec "$name" nft list ruleset >"$d/$label.nft" 2>/dev/null || : >"$d/$label.nft"
    ip netns exec "$name" sysctl -n net.ipv4.ip_forward >"$d/$label.ip_forward"
    ip netns exec "$name" sysctl -n net.bridge.bridge-nf-call-iptables >"$d/$label.bridge_nf_call_iptables" 2>/dev/null || :
  done
}
