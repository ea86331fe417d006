# shellcheck shell=bash
# A Kubernetes Service done the kube-proxy way on node1: DNAT from the
# ClusterIP 10.96.0.10:80 to the pod 10.244.2.2:8080, and masquerade
# (fully random, as kube-proxy does) to the flannel.1 address on the way
# out. Addresses and ports differ on every side of node1.
SC_TITLE="flannel-style VXLAN with a Service: DNAT 10.96.0.10:80 -> 10.244.2.2:8080, SNAT to flannel.1"
VX_DEV=flannel.1 VX_VNI=1 VX_PORT=8472 BRIDGE=cni0
SC_META='{
  "tunnelArp": false,
  "flows": [
    {"name": "tcp syn", "direction": "request", "match": {"tcp.flags": "0x0002"}},
    {"name": "tcp syn-ack", "direction": "reply", "match": {"tcp.flags": "0x0012"}},
    {"name": "http request", "direction": "request", "match": {"tcp.payload": true, "tcp.dstport": 80}},
    {"name": "http response", "direction": "reply", "match": {"tcp.payload": true, "tcp.srcport": 8080}}
  ],
  "primerCheck": {"flow": "tcp syn", "ttl": [64,64,63,63,63,63,62,62],
                  "frameLen": [74,74,74,124,124,74,74,74]},
  "nat": {"node": "node1", "clusterIP": "10.96.0.10", "servicePort": 80,
          "podIP": "10.244.2.2", "podPort": 8080, "snatTo": "10.244.1.0"}
}'

scenario_setup() {
  topology_flannel
  # Kubernetes nodes run with br_netfilter (kube-proxy needs it): frames a
  # pod sends into cni0 pass the IPv4 PREROUTING hook already on the bridge
  # port, so node1-cni0 sees them after DNAT. Pinned so the fixture does not
  # depend on the host's default; without br_netfilter the DNAT would show
  # between node1-cni0 and node1-flannel.1 instead.
  local n
  for n in node1 node2; do
    if ip netns exec "$(ns "$n")" test -e /proc/sys/net/bridge/bridge-nf-call-iptables; then
      nsx "$n" sysctl -qw net.bridge.bridge-nf-call-iptables=1
    fi
  done
  http_server ns2 10.244.2.2 8080
  nft_apply node1 service <<'NFT'
table ip vxlab_service {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 10.96.0.10 tcp dport 80 counter dnat to 10.244.2.2:8080
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "flannel.1" ct status dnat counter masquerade fully-random
  }
}
NFT
}

scenario_capture() { cap_path cni0 flannel.1; }

scenario_traffic() {
  traffic ns1 curl -sS --noproxy '*' --max-time 5 -o /dev/null -w 'HTTP %{http_code}, %{size_download} bytes\n' http://10.96.0.10/
}
