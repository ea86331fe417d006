#!/usr/bin/env bash
# tshark's view of every capture in DIR, as <capture>.tshark.json: what the
# conformance test compares vxdump against, so CI needs no tshark.
#   bash tshark-json.sh DIR VXLAN_PORT [OPTIONS_FILE]
# Checksums are verified (off by default in tshark), TCP sequence numbers are
# raw (vxdump shows raw ones), and TCP analysis and timestamps are off: they
# are tshark's opinions about the stream, not fields of a packet, and would
# double the file size.
set -euo pipefail
dir=$1 port=$2 optfile=${3:-}
opts=(-T json --no-duplicate-keys -d "udp.port==$port,vxlan"
  -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE
  -o tcp.relative_sequence_numbers:FALSE -o tcp.analyze_sequence_numbers:FALSE
  -o tcp.calculate_timestamps:FALSE -o udp.calculate_timestamps:FALSE)
[ -z "$optfile" ] || printf '%s ' "${opts[@]}" >"$optfile"

pids=()
for f in "$dir"/*.pcap "$dir"/*.pcapng; do
  [ -e "$f" ] || continue
  # One packet per line without the Elasticsearch leftovers (_index, _type,
  # _score): a third of the size of tshark's indented output, and diffable.
  ( tshark -r "$f" "${opts[@]}" 2>"$f.tshark.err" |
      node -e '
        let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
          const pkts = JSON.parse(s).map((p) => ({ _source: p._source }));
          process.stdout.write("[\n" + pkts.map((p) => JSON.stringify(p)).join(",\n") + "\n]\n");
        });' >"$f.tshark.json" ) &
  pids+=("$!")
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
for f in "$dir"/*.tshark.err; do
  [ -e "$f" ] || continue
  # tshark warns about running as root; anything else is worth seeing.
  grep -v 'Running as user "root"' "$f" >&2 || true
  rm -f "$f"
done
exit "$rc"
