# shellcheck shell=bash
# The primer's static point-to-point experiment: vxlan11, VNI 11, port 4789,
# fixed remote, learning on. With empty ARP caches (fresh namespaces) the
# first ping shows both ARPs: ns1 for its gateway (answered by br0) and
# vxlan11 for 10.244.2.0, the latter carried inside VXLAN.
SC_TITLE="static point-to-point VXLAN (VNI 11, UDP 4789), ping"
VX_DEV=vxlan11 VX_VNI=11 VX_PORT=4789 BRIDGE=br0
SC_META='{
  "tunnelArp": true,
  "flows": [
    {"name": "icmp echo request", "direction": "request", "match": {"icmp.type": 8}},
    {"name": "icmp echo reply", "direction": "reply", "match": {"icmp.type": 0}}
  ],
  "primerCheck": {"flow": "icmp echo request", "ttl": [64,64,63,63,63,63,62,62],
                  "frameLen": [98,98,98,148,148,98,98,98]}
}'

scenario_setup() { topology_static 1500 1450; }

scenario_capture() {
  cap_path br0 vxlan11
  # The same wire in the other formats vxdump reads.
  cap_start node1 eth0 "$STAGE/node1-eth0.ns.pcap" --time-stamp-precision=nano
  # -B: with --immediate-mode libpcap uses TPACKET_V2, whose ring slots are
  # snaplen-sized when the device has no MTU ("any"): the default 2 MB ring
  # holds 8 packets and the first burst loses some ("dropped by kernel").
  cap_start node1 any "$STAGE/node1-any.pcap" -B 32768
  cap_start_dumpcap node1 "$STAGE/node1-multi.pcapng" -i br0 -i vxlan11 -i eth0
}

scenario_traffic() {
  traffic ns1 ping -n -c 3 -i 0.2 10.244.2.2
}
