# shellcheck shell=bash
# VXLAN's 50 bytes forgotten: the underlay and the pods have MTU 1500, the
# VXLAN device the kernel's 1450. A full-size packet from the pod does not
# fit into the tunnel: without DF node1 fragments it, with DF node1 answers
# "fragmentation needed, mtu 1450". Then the largest packet that fits.
SC_TITLE="pod MTU 1500 over a 1450 VXLAN device: fragments and ICMP fragmentation needed"
VX_DEV=vxlan11 VX_VNI=11 VX_PORT=4789 BRIDGE=br0
SC_META='{
  "tunnelArp": true,
  "flows": [
    {"name": "oversized echo request without DF", "direction": "request",
     "match": {"icmp.type": 8, "ip.len": 1500, "ip.flags.df": 0}},
    {"name": "oversized echo reply (no DF)", "direction": "reply",
     "match": {"icmp.type": 0, "ip.len": 1500}},
    {"name": "oversized echo request with DF", "direction": "request",
     "match": {"icmp.type": 8, "ip.len": 1500, "ip.flags.df": 1}},
    {"name": "fragmentation needed", "direction": "reply", "start": "node1-br0",
     "match": {"icmp.type": 3, "icmp.code": 4}},
    {"name": "largest echo request that fits", "direction": "request",
     "match": {"icmp.type": 8, "ip.len": 1450}}
  ]
}'

scenario_setup() { topology_static 1500 1450; }

scenario_capture() { cap_path br0 vxlan11; }

scenario_traffic() {
  traffic ns1 ping -n -c 1 -s 1472 -M dont 10.244.2.2
  traffic ns1 ping -n -c 2 -i 0.2 -W 1 -s 1472 -M do 10.244.2.2
  traffic ns1 ping -n -c 1 -s 1422 -M do 10.244.2.2
}
