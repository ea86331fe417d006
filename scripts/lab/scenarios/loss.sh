# shellcheck shell=bash
# The static experiment with a firewall fault on node2: VXLAN packets that
# carry echo requests 2 and 4 are dropped on arrival (nft input hook), the
# classic "UDP 4789 blocked" symptom, made selective so that some pings
# still pass. They are seen at node2 eth0 and never at node2 vxlan11.
SC_TITLE="static VXLAN with packets lost at node2 (UDP 4789 dropped on input)"
VX_DEV=vxlan11 VX_VNI=11 VX_PORT=4789 BRIDGE=br0
LOSS_SEQS="2, 4"
SC_META='{
  "tunnelArp": true,
  "flows": [
    {"name": "icmp echo request", "direction": "request", "match": {"icmp.type": 8}},
    {"name": "icmp echo reply", "direction": "reply", "match": {"icmp.type": 0}}
  ],
  "primerCheck": {"flow": "icmp echo request", "ttl": [64,64,63,63,63,63,62,62],
                  "frameLen": [98,98,98,148,148,98,98,98]},
  "loss": {"icmpType": 8, "seqs": [2, 4], "node": "node2",
           "between": ["node2-eth0", "node2-vxlan11"],
           "how": "nft table ip vxlab_fault, chain input: udp dport 4789 and inner ICMP echo request with seq 2 or 4 -> drop"}
}'

scenario_setup() {
  topology_static 1500 1450
  # Offsets from the start of the outer UDP header: UDP 8 + VXLAN 8 +
  # inner Ethernet 14 + inner IPv4 20 (no options) = 50 bytes to the inner
  # ICMP header; type at byte 50, sequence number at byte 56.
  nft_apply node2 fault <<NFT
table ip vxlab_fault {
  chain input {
    type filter hook input priority filter; policy accept;
    udp dport 4789 @th,400,8 8 @th,448,16 { $LOSS_SEQS } counter drop
  }
}
NFT
}

scenario_capture() { cap_path br0 vxlan11; }

scenario_traffic() {
  # -W 1: lost pings would otherwise keep ping waiting for 10 s.
  traffic ns1 ping -n -c 5 -i 0.2 -W 1 10.244.2.2
}
