# shellcheck shell=bash
# A VTEP on a port no tool decodes by default (4899) with a large VNI
# (10001); VTEP addresses share one /24 and the peer is static (ARP + FDB).
SC_TITLE="custom port VXLAN (vxlan-test, VNI 10001, UDP 4899), ping"
VX_DEV=vxlan-test VX_VNI=10001 VX_PORT=4899 BRIDGE=br0
SC_META='{
  "tunnelArp": false,
  "flows": [
    {"name": "icmp echo request", "direction": "request", "match": {"icmp.type": 8}},
    {"name": "icmp echo reply", "direction": "reply", "match": {"icmp.type": 0}}
  ],
  "primerCheck": {"flow": "icmp echo request", "ttl": [64,64,63,63,63,63,62,62],
                  "frameLen": [98,98,98,148,148,98,98,98]}
}'

scenario_setup() {
  build_underlay 1500
  build_bridge node1 br0 10.244.1.1/24 1500
  build_bridge node2 br0 10.244.2.1/24 1500
  build_pod node1 ns1 br0 veth1a veth1b 10.244.1.2/24 1500
  build_pod node2 ns2 br0 veth2a veth2b 10.244.2.2/24 1500
  vxlan_nolearning node1 10.211.55.122 172.16.100.1/24 1450
  vxlan_nolearning node2 10.211.55.123 172.16.100.2/24 1450
  vxlan_peer node1 172.16.100.2 10.211.55.123
  vxlan_peer node2 172.16.100.1 10.211.55.122
  nsx node1 ip route add 10.244.2.0/24 via 172.16.100.2 dev vxlan-test
  nsx node2 ip route add 10.244.1.0/24 via 172.16.100.1 dev vxlan-test
  nsx ns1 ip route add 10.244.2.0/24 via 10.244.1.1 dev veth1a
  nsx ns2 ip route add 10.244.1.0/24 via 10.244.2.1 dev veth2a
}

scenario_capture() { cap_path br0 vxlan-test; }

scenario_traffic() {
  traffic ns1 ping -n -c 3 -i 0.2 10.244.2.2
}
