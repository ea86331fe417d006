# shellcheck shell=bash
# The static experiment with pings whose TTL runs out on the way, as
# traceroute and mtr send them: first a ping that gets through, then TTL 1,
# which dies where node1 routes it (br0 to vxlan11), and TTL 2, which crosses
# the tunnel and dies where node2 routes it (vxlan11 to br0); each node
# answers "time exceeded".
SC_TITLE="static VXLAN with pings whose TTL runs out at node1 and at node2 (traceroute, mtr)"
VX_DEV=vxlan11 VX_VNI=11 VX_PORT=4789 BRIDGE=br0
SC_META='{
  "tunnelArp": true,
  "flows": [
    {"name": "echo request with TTL 1", "direction": "request", "match": {"icmp.type": 8, "ip.ttl": 1}},
    {"name": "echo request with TTL 2", "direction": "request", "match": {"icmp.type": 8, "ip.ttl": 2}},
    {"name": "time exceeded from node1", "direction": "reply", "start": "node1-br0", "match": {"icmp.type": 11}},
    {"name": "echo request that gets through", "direction": "request", "match": {"icmp.type": 8, "ip.ttl": 64}}
  ]
}'

scenario_setup() { topology_static 1500 1450; }

scenario_capture() { cap_path br0 vxlan11; }

scenario_traffic() {
  traffic ns1 ping -n -c 1 -W 1 10.244.2.2
  traffic ns1 ping -n -c 1 -W 1 -t 1 10.244.2.2
  traffic ns1 ping -n -c 1 -W 1 -t 2 10.244.2.2
}
