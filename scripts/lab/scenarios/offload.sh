# shellcheck shell=bash
# flannel-style VXLAN with the kernel's offloads left on, as on real hosts, except segmentation
# offload on node2's eth0. The server in ns2 sends its 40 KB response in TCP segments of up to
# 64 KB (GSO), seen whole on veth2a, cni0 and flannel.1; node2's eth0 cannot carry them and cuts
# them into MTU-sized ones; node1's flannel.1 joins them again (GRO). No byte is lost, yet a
# packet seen before the cut is not seen after it: what a tracer must not call lost.
SC_TITLE="flannel-style VXLAN, a 40 KB HTTP download cut into segments at node2/eth0 (GSO off) and joined at node1/flannel.1 (GRO)"
VX_DEV=flannel.1 VX_VNI=1 VX_PORT=8472 BRIDGE=cni0
SC_META='{
  "tunnelArp": false,
  "flows": [
    {"name": "tcp syn", "direction": "request", "match": {"tcp.flags": "0x0002"}},
    {"name": "tcp syn-ack", "direction": "reply", "match": {"tcp.flags": "0x0012"}}
  ]
}'

scenario_setup() {
  topology_flannel
  http_server ns2 10.244.2.2 80
  head -c 40000 /dev/urandom >"$WORK/www/download.bin"
  nsx node2 ethtool -K eth0 gso off tso off
}

# A burst of MTU-sized segments overflows tcpdump's default 2 MB buffer on a busy lab machine.
scenario_capture() { cap_path cni0 flannel.1 -B 65536; }

scenario_traffic() {
  traffic ns1 curl -sS --noproxy '*' --max-time 5 -o /dev/null -w 'HTTP %{http_code}, %{size_download} bytes\n' http://10.244.2.2/download.bin
}
