# shellcheck shell=bash
# The static experiment, then a firewall on node2 that rejects the tunnel's
# port (nft `reject`, as iptables -j REJECT does): a first ping gets through,
# the next ones are seen at node2 eth0 and go no farther, and node2 answers
# each with ICMP port unreachable from its underlay address, quoting the
# VXLAN packet it refused. The classic "UDP 4789 blocked between the nodes",
# where the error says who refused what.
SC_TITLE="static VXLAN, then UDP 4789 rejected on node2 (ICMP port unreachable back to node1)"
VX_DEV=vxlan11 VX_VNI=11 VX_PORT=4789 BRIDGE=br0
SC_META='{
  "tunnelArp": true,
  "flows": [
    {"name": "echo request that gets through", "direction": "request", "match": {"icmp.type": 8}},
    {"name": "echo reply", "direction": "reply", "match": {"icmp.type": 0}},
    {"name": "rejected echo request", "direction": "request", "match": {"icmp.type": 8, "icmp.seq": 2}},
    {"name": "port unreachable from node2", "direction": "reply", "start": "node2-eth0", "match": {"icmp.type": 3, "icmp.code": 3}}
  ]
}'

scenario_setup() { topology_static 1500 1450; }

scenario_capture() { cap_path br0 vxlan11; }

scenario_traffic() {
  traffic ns1 ping -n -c 1 -W 1 10.244.2.2
  nft_apply node2 reject <<'NFT'
table inet vxlab_reject {
  chain input {
    type filter hook input priority filter; policy accept;
    udp dport 4789 reject
  }
}
NFT
  traffic ns1 ping -n -c 2 -i 0.2 -W 1 10.244.2.2
}
