# shellcheck shell=bash
# flannel's VXLAN backend: flannel.1 (VNI 1, port 8472, nolearning), cni0,
# static neighbour + FDB for the peer VTEP, so no ARP crosses the tunnel.
# Underlay MTU 1450, overlay 1400. Ping, then one HTTP exchange over TCP.
SC_TITLE="flannel-style VXLAN (flannel.1, VNI 1, UDP 8472), ping and HTTP"
VX_DEV=flannel.1 VX_VNI=1 VX_PORT=8472 BRIDGE=cni0
SC_META='{
  "tunnelArp": false,
  "flows": [
    {"name": "icmp echo request", "direction": "request", "match": {"icmp.type": 8}},
    {"name": "icmp echo reply", "direction": "reply", "match": {"icmp.type": 0}},
    {"name": "tcp syn", "direction": "request", "match": {"tcp.flags": "0x0002"}},
    {"name": "tcp syn-ack", "direction": "reply", "match": {"tcp.flags": "0x0012"}},
    {"name": "http request", "direction": "request", "match": {"tcp.payload": true, "tcp.dstport": 80}},
    {"name": "http response", "direction": "reply", "match": {"tcp.payload": true, "tcp.srcport": 80}},
    {"name": "tcp fin from server", "direction": "reply", "match": {"tcp.fin": true, "tcp.srcport": 80}},
    {"name": "tcp fin from client", "direction": "request", "match": {"tcp.fin": true, "tcp.dstport": 80}}
  ],
  "primerCheck": {"flow": "icmp echo request", "ttl": [64,64,63,63,63,63,62,62],
                  "frameLen": [98,98,98,148,148,98,98,98]}
}'

scenario_setup() {
  topology_flannel
  http_server ns2 10.244.2.2 80
}

scenario_capture() { cap_path cni0 flannel.1; }

scenario_traffic() {
  traffic ns1 ping -n -c 3 -i 0.2 10.244.2.2
  traffic ns1 curl -sS --noproxy '*' --max-time 5 -o /dev/null -w 'HTTP %{http_code}, %{size_download} bytes\n' http://10.244.2.2/
}
