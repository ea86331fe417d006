#!/usr/bin/env node
// Writes <out>/manifest.json for one lab scenario:
//   node manifest.mjs WORK OUT
// WORK holds what run.sh recorded (setup.tsv, traffic/, state-before/,
// state-after/), OUT the captures and their <capture>.tshark.json.
// Scenario facts come from the environment (SCENARIO, SC_TITLE, SC_META,
// VX_DEV, VX_VNI, VX_PORT, BRIDGE, LAB_NS_PREFIX).
//
// Every expected fact is computed from what the kernel really did: MACs and
// MTUs read back with `ip -j`, packets as tshark decoded them. The checks at
// the end compare those facts with the primer's hop table and with the fault
// or NAT the scenario injected; if one fails the manifest is still written,
// but the exit status is 1 so run.sh does not publish the scenario.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const [work, out] = process.argv.slice(2);
if (!work || !out) {
  console.error('usage: node manifest.mjs WORK OUT');
  process.exit(2);
}
const env = process.env;
const SCENARIO = env.SCENARIO;
const META = JSON.parse(env.SC_META || '{}');
const VX_DEV = env.VX_DEV;
const VX_VNI = Number(env.VX_VNI);
const VX_PORT = Number(env.VX_PORT);
const BRIDGE = env.BRIDGE;
const NS_PREFIX = env.LAB_NS_PREFIX || '\0';
const LABELS = ['node1', 'node2', 'ns1', 'ns2'];
const HOST_NODE = { node1: 'node1', node2: 'node2', ns1: 'node1', ns2: 'node2' };
const VXLAN_OVERHEAD = 50; // outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8

// The real namespace names carry a per-run prefix; the manifest speaks in labels.
const unprefix = (s) => s.split(NS_PREFIX).join('');
const readJson = (p, fallback) => {
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch {
    return fallback;
  }
};
const readText = (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '');
const run = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return (e.stdout || '') + (e.stderr || '');
  }
};

// ------------------------------------------------------------------ topology

function interfaces(stateDir) {
  const result = [];
  for (const label of LABELS) {
    const links = readJson(path.join(stateDir, `${label}.link.json`), []);
    const addrs = readJson(path.join(stateDir, `${label}.addr.json`), []);
    for (const l of links) {
      if (l.ifname === 'lo') continue;
      const a = addrs.find((x) => x.ifname === l.ifname) || { addr_info: [] };
      const kind = l.linkinfo?.info_kind ?? l.link_type;
      const i = {
        namespace: label,
        node: HOST_NODE[label],
        name: l.ifname,
        ifindex: l.ifindex,
        kind,
        mac: l.address.toLowerCase(),
        mtu: l.mtu,
        addresses: a.addr_info.filter((x) => x.family === 'inet').map((x) => `${x.local}/${x.prefixlen}`),
        state: l.operstate,
      };
      if (l.master) i.master = l.master;
      if (kind === 'vxlan') {
        const d = l.linkinfo.info_data;
        i.vxlan = {
          vni: d.id,
          port: d.port,
          local: d.local ?? null,
          remote: d.remote ?? null,
          underlayDevice: d.link ?? null,
          learning: d.learning,
          udpChecksum: d.udp_csum ?? null,
          ttl: d.ttl ?? null,
        };
      }
      if (kind === 'bridge') {
        const d = l.linkinfo.info_data;
        i.bridge = { stp: d.stp_state, multicastSnooping: d.mcast_snooping };
      }
      result.push(i);
    }
  }
  return result;
}

function routes(stateDir) {
  const r = {};
  for (const label of LABELS) {
    r[label] = readJson(path.join(stateDir, `${label}.route.json`), []).map((x) =>
      [x.dst, x.gateway && `via ${x.gateway}`, `dev ${x.dev}`, x.scope && x.scope !== 'universe' && `scope ${x.scope}`,
        x.prefsrc && `src ${x.prefsrc}`, ...(x.flags || [])].filter(Boolean).join(' '),
    );
  }
  return r;
}

function neighbours(stateDir) {
  const r = {};
  for (const label of LABELS) {
    r[label] = readJson(path.join(stateDir, `${label}.neigh.json`), []).map((x) => ({
      ip: x.dst, mac: x.lladdr?.toLowerCase() ?? null, dev: x.dev, state: (x.state || []).join(','),
    }));
  }
  return r;
}

// Only the VXLAN device's FDB: the bridges' own entries are noise here.
function vxlanFdb(stateDir) {
  const r = {};
  for (const label of ['node1', 'node2']) {
    r[label] = readJson(path.join(stateDir, `${label}.fdb.json`), [])
      .filter((x) => x.ifname === VX_DEV)
      .map((x) => ({ mac: x.mac.toLowerCase(), dst: x.dst ?? null, flags: [...(x.flags || []), x.state].filter(Boolean) }));
  }
  return r;
}

function nftRulesets(stateDir) {
  const r = {};
  for (const label of LABELS) {
    const t = readText(path.join(stateDir, `${label}.nft`)).trim();
    if (t) r[label] = t;
  }
  return r;
}

function sysctls(stateDir) {
  const r = {};
  for (const label of ['node1', 'node2']) {
    const one = (name) => readText(path.join(stateDir, `${label}.${name}`)).trim() || null;
    r[label] = { 'net.ipv4.ip_forward': one('ip_forward'), 'net.bridge.bridge-nf-call-iptables': one('bridge_nf_call_iptables') };
  }
  return r;
}

const ifaces = interfaces(path.join(work, 'state-before'));
const iface = (ns, name) => {
  const i = ifaces.find((x) => x.namespace === ns && x.name === name);
  if (!i) throw new Error(`no interface ${ns}/${name} in the read-back topology`);
  return i;
};

// ------------------------------------------------------------------ captures

function parseCapinfos(file) {
  const text = run('capinfos', ['-M', file]);
  const field = (name) => text.match(new RegExp(`^${name}:\\s+(.*)$`, 'm'))?.[1].trim() ?? null;
  const ifs = [...text.matchAll(/Interface #(\d+) info:\n((?:\s{10,}.*\n?)*)/g)].map((m) => {
    const g = (n) => m[2].match(new RegExp(`${n} = (.*)`))?.[1].trim() ?? null;
    return { id: Number(m[1]), name: g('Name'), linkType: g('Encapsulation'), timePrecision: g('Time precision') };
  });
  return {
    fileType: field('File type'),
    linkType: field('File encapsulation'),
    timestampPrecision: field('File timestamp precision'),
    packets: Number(field('Number of packets')),
    interfaces: ifs,
  };
}

const captureFiles = fs.readdirSync(out).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();

function pointOf(file) {
  const base = file.replace(/\.(pcapng|pcap)$/, '');
  const variant = base.endsWith('.ns') ? 'nanosecond' : null;
  const b = variant ? base.slice(0, -3) : base;
  const dash = b.indexOf('-');
  return { point: b, namespace: b.slice(0, dash), interface: b.slice(dash + 1), variant };
}

const list = (x) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const int = (s) => (s === undefined ? undefined : s.startsWith('0x') ? parseInt(s, 16) : Number(s));
const timeNs = (epoch) => {
  const [s, frac = ''] = epoch.split('.');
  return (BigInt(s) * 1000000000n + BigInt((frac + '000000000').slice(0, 9))).toString();
};

// One tshark packet as the few fields the facts need. Outer = first
// occurrence, inner = last: tshark lists repeated layers outermost first.
function normalise(pkt) {
  const L = pkt._source.layers;
  const f = L.frame;
  const eths = list(L.eth);
  const ips = list(L.ip);
  const udps = list(L.udp);
  // A VXLAN header is the packet's own tunnel only with a UDP header around it at the top: in
  // an ICMP error quoting a tunnel packet (port unreachable), tshark lists the quoted VXLAN at
  // the top and the quoted UDP inside the ICMP layer.
  const vx = udps.length > 0 ? list(L.vxlan)[0] : undefined;
  const ipOf = (ip) =>
    ip && {
      src: ip['ip.src'], dst: ip['ip.dst'], id: int(ip['ip.id']), ttl: int(ip['ip.ttl']), proto: int(ip['ip.proto']),
      len: int(ip['ip.len']), df: int(ip['ip.flags_tree']?.['ip.flags.df']), mf: int(ip['ip.flags_tree']?.['ip.flags.mf']),
      fragOffset: int(ip['ip.frag_offset']),
    };
  const ethOf = (e) => e && { src: e['eth.src'].toLowerCase(), dst: e['eth.dst'].toLowerCase() };
  const p = {
    n: int(f['frame.number']),
    timeNs: timeNs(f['frame.time_epoch']),
    t: Number(f['frame.time_epoch']),
    len: int(f['frame.len']),
    protocols: f['frame.protocols'],
  };
  if (vx) {
    p.outer = {
      eth: ethOf(eths[0]), ip: ipOf(ips[0]),
      udp: { src: int(udps[0]['udp.srcport']), dst: int(udps[0]['udp.dstport']) }, vni: int(vx['vxlan.vni']),
    };
    p.eth = ethOf(eths[1]);
    p.ip = ips.length > 1 ? ipOf(ips[ips.length - 1]) : null;
  } else {
    p.eth = ethOf(eths[0]);
    p.ip = ipOf(ips[0]) ?? null;
  }
  if (L.arp) {
    const a = L.arp;
    p.arp = {
      op: int(a['arp.opcode']) === 1 ? 'request' : int(a['arp.opcode']) === 2 ? 'reply' : a['arp.opcode'],
      senderMac: a['arp.src.hw_mac'], senderIp: a['arp.src.proto_ipv4'], targetMac: a['arp.dst.hw_mac'], targetIp: a['arp.dst.proto_ipv4'],
    };
  }
  if (L.icmp) {
    // The first ICMP layer is the packet's own (a quoted tunnel's inner ICMP may follow it).
    const c = list(L.icmp)[0];
    p.icmp = { type: int(c['icmp.type']), code: int(c['icmp.code']), ident: int(c['icmp.ident']), seq: int(c['icmp.seq']), mtu: int(c['icmp.mtu']) };
    if (c.ip) p.icmp.quoted = ipOf(c.ip);
  }
  if (L.tcp) {
    const t = L.tcp;
    p.tcp = {
      srcport: int(t['tcp.srcport']), dstport: int(t['tcp.dstport']), seq: int(t['tcp.seq_raw']), ack: int(t['tcp.ack_raw']),
      flags: t['tcp.flags'], len: int(t['tcp.len']),
    };
  }
  // tshark's checksum verdicts: 0 bad, 1 good, 2 unverified.
  p.checksums = [];
  const verdict = { 0: 'bad', 1: 'good', 2: 'unverified' };
  ips.forEach((ip, i) => p.checksums.push([vx ? `${i === 0 ? 'outer' : 'inner'} ip` : 'ip', verdict[ip['ip.checksum.status']]]));
  udps.forEach((u) => p.checksums.push([vx ? 'outer udp' : 'udp', verdict[u['udp.checksum.status']]]));
  if (L.tcp) p.checksums.push([vx ? 'inner tcp' : 'tcp', verdict[L.tcp['tcp.checksum.status']]]);
  if (L.icmp) p.checksums.push([vx ? 'inner icmp' : 'icmp', verdict[L.icmp['icmp.checksum.status']]]);
  return p;
}

const captures = [];
const packetsAt = {}; // point -> normalised packets (only the plain, microsecond pcaps)
for (const file of captureFiles) {
  const info = parseCapinfos(path.join(out, file));
  const where = pointOf(file);
  const tsharkFile = `${file}.tshark.json`;
  const pkts = readJson(path.join(out, tsharkFile), []).map(normalise);
  const checksums = {};
  for (const p of pkts) {
    for (const [what, v] of p.checksums) {
      checksums[what] ??= {};
      if (v) checksums[what][v] = (checksums[what][v] ?? 0) + 1;
    }
  }
  const c = {
    file,
    point: where.variant || ['any', 'multi'].includes(where.interface) ? null : where.point,
    namespace: where.namespace,
    node: HOST_NODE[where.namespace],
    interface: where.interface === 'multi' ? info.interfaces.map((x) => x.name) : where.interface,
    tool: file.endsWith('.pcapng') ? 'dumpcap' : 'tcpdump',
    format: info.fileType,
    linkType: info.linkType,
    timestampPrecision: info.timestampPrecision,
    packets: info.packets,
    tshark: tsharkFile,
    tsharkPackets: pkts.length,
    checksums,
  };
  // What the capture tool said when it stopped: packets the kernel dropped
  // would make the fixture lie about losses.
  const log = readText(path.join(work, 'logs', `${file}.log`));
  const counts = [...log.matchAll(/(\d+) packets dropped by kernel/g), ...log.matchAll(/received\/dropped on interface '[^']*': \d+\/(\d+)/g)];
  c.droppedByKernel = counts.length ? counts.reduce((n, m) => n + Number(m[1]), 0) : null;
  if (where.variant) c.variant = `${where.variant} copy of ${where.point}`;
  if (file.endsWith('.pcapng')) c.interfaces = info.interfaces;
  captures.push(c);
  if (c.point) packetsAt[c.point] = pkts;
}

// ------------------------------------------------------------------ path

const request = [
  ['ns1', 'veth1a', 'pod'], ['node1', BRIDGE, 'bridge'], ['node1', VX_DEV, 'vtep'], ['node1', 'eth0', 'underlay'],
  ['node2', 'eth0', 'underlay'], ['node2', VX_DEV, 'vtep'], ['node2', BRIDGE, 'bridge'], ['ns2', 'veth2a', 'pod'],
].map(([ns, ifname, role]) => ({ point: `${ns}-${ifname}`, namespace: ns, node: HOST_NODE[ns], interface: ifname, role, file: `${ns}-${ifname}.pcap` }));
const paths = { request, reply: [...request].reverse() };

// ------------------------------------------------------------------ flows

const l4key = (p) =>
  p.icmp ? `icmp/${p.icmp.type}/${p.icmp.code}/${p.icmp.ident}/${p.icmp.seq}`
    : p.tcp ? `tcp/${p.tcp.seq}/${p.tcp.ack}/${p.tcp.flags}/${p.tcp.len}` : null;

// What survives every hop (DESIGN.md): IP identification and protocol, the
// ICMP id/seq or TCP seq/ack/flags/length. Fragments carry no L4 header, so
// they match on the IP part alone; the time window keeps ID reuse out.
function sameFirst(a, b) {
  if (!a.ip || !b.ip) return false;
  if (a.ip.id !== b.ip.id || a.ip.proto !== b.ip.proto) return false;
  if (Math.abs(a.t - b.t) > 2) return false;
  const ka = l4key(a);
  const kb = l4key(b);
  return ka === null || kb === null || ka === kb;
}

function getField(p, name) {
  switch (name) {
    case 'icmp.type': return p.icmp?.type;
    case 'icmp.code': return p.icmp?.code;
    case 'icmp.seq': return p.icmp?.seq;
    case 'ip.len': return p.ip?.len;
    case 'ip.flags.df': return p.ip?.df;
    case 'ip.ttl': return p.ip?.ttl;
    case 'tcp.flags': return p.tcp?.flags;
    case 'tcp.srcport': return p.tcp?.srcport;
    case 'tcp.dstport': return p.tcp?.dstport;
    case 'tcp.payload': return p.tcp ? p.tcp.len > 0 : undefined;
    case 'tcp.fin': return p.tcp ? (parseInt(p.tcp.flags, 16) & 1) === 1 : undefined;
    default: throw new Error(`unknown match field ${name}`);
  }
}
const matches = (p, m) => Object.entries(m).every(([k, v]) => getField(p, k) === v);

const endpoint = (p) => {
  const port = p.tcp ? `:${p.tcp.srcport}` : '';
  const dport = p.tcp ? `:${p.tcp.dstport}` : '';
  return [`${p.ip.src}${port}`, `${p.ip.dst}${dport}`];
};

function hopFacts(stop, frames) {
  const first = frames[0];
  const h = {
    point: stop.point, namespace: stop.namespace, node: stop.node, interface: stop.interface, role: stop.role,
    seen: true, frame: first.n, timeNs: first.timeNs, frameLen: first.len, encapsulated: Boolean(first.outer),
  };
  if (first.outer) {
    h.outer = {
      ethSrc: first.outer.eth.src, ethDst: first.outer.eth.dst, ipSrc: first.outer.ip.src, ipDst: first.outer.ip.dst,
      ipId: first.outer.ip.id, ttl: first.outer.ip.ttl, df: first.outer.ip.df, udpSrcPort: first.outer.udp.src,
      udpDstPort: first.outer.udp.dst, vni: first.outer.vni,
    };
  }
  Object.assign(h, {
    ethSrc: first.eth.src, ethDst: first.eth.dst, ipSrc: first.ip.src, ipDst: first.ip.dst, ipId: first.ip.id,
    ttl: first.ip.ttl, ipLen: first.ip.len, df: first.ip.df,
  });
  if (first.tcp) Object.assign(h, { srcPort: first.tcp.srcport, dstPort: first.tcp.dstport });
  const tcpFrame = frames.find((f) => f.tcp);
  if (!first.tcp && tcpFrame) Object.assign(h, { srcPort: tcpFrame.tcp.srcport, dstPort: tcpFrame.tcp.dstport });
  if (frames.length > 1 || first.ip.mf || first.ip.fragOffset) {
    h.fragments = frames.map((f) => ({ frame: f.n, frameLen: f.len, ipLen: f.ip.len, fragOffset: f.ip.fragOffset * 8, moreFragments: f.ip.mf === 1 }));
  }
  return h;
}

function describeChanges(prev, h) {
  const c = [];
  const prevTotal = prev.fragments ? null : prev.frameLen;
  const d = h.frameLen - prev.frameLen;
  if (!prev.encapsulated && h.encapsulated) c.push(`encapsulated: +${d} bytes (outer Ethernet, IPv4, UDP ${h.outer.udpDstPort}, VXLAN VNI ${h.outer.vni})`);
  else if (prev.encapsulated && !h.encapsulated) c.push(`decapsulated: ${d} bytes`);
  else if (d !== 0 && prevTotal !== null) c.push(`frame length ${prev.frameLen} -> ${h.frameLen}`);
  if (!prev.fragments && h.fragments) c.push(`fragmented into ${h.fragments.length} IP fragments`);
  if (prev.fragments && h.fragments && prev.fragments.length !== h.fragments.length) c.push(`${prev.fragments.length} -> ${h.fragments.length} IP fragments`);
  if (prev.fragments && !h.fragments) c.push('reassembled');
  if (prev.ethSrc !== h.ethSrc || prev.ethDst !== h.ethDst) c.push(`MACs rewritten: ${prev.ethSrc} > ${prev.ethDst} became ${h.ethSrc} > ${h.ethDst}`);
  if (prev.ttl !== h.ttl) c.push(`TTL ${prev.ttl} -> ${h.ttl}`);
  const ps = `${prev.ipSrc}${prev.srcPort !== undefined ? `:${prev.srcPort}` : ''}`;
  const hs = `${h.ipSrc}${h.srcPort !== undefined ? `:${h.srcPort}` : ''}`;
  const pd = `${prev.ipDst}${prev.dstPort !== undefined ? `:${prev.dstPort}` : ''}`;
  const hd = `${h.ipDst}${h.dstPort !== undefined ? `:${h.dstPort}` : ''}`;
  if (ps !== hs) c.push(`source NAT: ${ps} -> ${hs}`);
  if (pd !== hd) c.push(`destination NAT: ${pd} -> ${hd}`);
  return c.length ? c : ['unchanged'];
}

function followFlow(def) {
  const stops = paths[def.direction];
  const startPoint = def.start ?? stops[0].point;
  const first = (packetsAt[startPoint] || []).find((p) => p.ip && matches(p, def.match));
  const flow = { name: def.name, direction: def.direction, start: startPoint, match: def.match };
  if (!first) {
    flow.error = `no packet at ${startPoint} matches`;
    return flow;
  }
  flow.identity = { ipId: first.ip.id, ipProto: first.ip.proto, l4: l4key(first) };
  flow.hops = [];
  let prev = null;
  for (const stop of stops) {
    const frames = (packetsAt[stop.point] || []).filter((p) => sameFirst(p, first));
    if (!frames.length) {
      flow.hops.push({ point: stop.point, namespace: stop.namespace, node: stop.node, interface: stop.interface, role: stop.role, seen: false });
      continue;
    }
    const h = hopFacts(stop, frames);
    h.changes = prev ? describeChanges(prev, h) : ['first sighting'];
    flow.hops.push(h);
    prev = h;
  }
  const seenHops = flow.hops.filter((h) => h.seen);
  const between = (pred) => {
    for (let i = 1; i < seenHops.length; i += 1) if (pred(seenHops[i - 1], seenHops[i])) return [seenHops[i - 1].point, seenHops[i].point];
    return null;
  };
  flow.encapsulation = {
    added: between((a, b) => !a.encapsulated && b.encapsulated),
    removed: between((a, b) => a.encapsulated && !b.encapsulated),
    bytes: VXLAN_OVERHEAD,
  };
  const startIdx = stops.findIndex((s) => s.point === startPoint);
  const missing = flow.hops.slice(startIdx).findIndex((h) => !h.seen);
  if (missing > 0) flow.lostBetween = [flow.hops[startIdx + missing - 1].point, flow.hops[startIdx + missing].point];
  return flow;
}

const flows = (META.flows || []).map(followFlow);

// ------------------------------------------------------------------ ARP

const arp = {};
for (const stop of request) {
  arp[stop.point] = (packetsAt[stop.point] || []).filter((p) => p.arp).map((p) => ({
    frame: p.n, frameLen: p.len, encapsulated: Boolean(p.outer), op: p.arp.op, senderMac: p.arp.senderMac,
    senderIp: p.arp.senderIp, targetIp: p.arp.targetIp, ...(p.outer ? { vni: p.outer.vni } : {}),
  }));
}

// ------------------------------------------------------------------ checks

const checks = [];
const check = (name, ok, detail) => checks.push({ name, ok: Boolean(ok), ...(detail === undefined ? {} : { detail }) });

// The primer's table, restated from the read-back topology. For the reply
// the same rules hold with the nodes swapped.
function primerCheck(flow, spec, mirrored) {
  if (!flow?.hops) return check(`primer table: ${spec.flow}`, false, 'flow not found');
  const [a, b, pa, pb] = mirrored ? ['node2', 'node1', ['ns2', 'veth2a'], ['ns1', 'veth1a']] : ['node1', 'node2', ['ns1', 'veth1a'], ['ns2', 'veth2a']];
  const mac = (ns, n) => iface(ns, n).mac;
  const ip4 = (ns, n) => iface(ns, n).addresses[0].split('/')[0];
  const inner = [
    [mac(...pa), mac(a, BRIDGE)], [mac(...pa), mac(a, BRIDGE)],
    [mac(a, VX_DEV), mac(b, VX_DEV)], [mac(a, VX_DEV), mac(b, VX_DEV)], [mac(a, VX_DEV), mac(b, VX_DEV)], [mac(a, VX_DEV), mac(b, VX_DEV)],
    [mac(b, BRIDGE), mac(...pb)], [mac(b, BRIDGE), mac(...pb)],
  ];
  const problems = [];
  flow.hops.forEach((h, i) => {
    if (!h.seen) return problems.push(`${h.point}: not seen`);
    if (h.ethSrc !== inner[i][0] || h.ethDst !== inner[i][1]) problems.push(`${h.point}: MACs ${h.ethSrc} > ${h.ethDst}, expected ${inner[i][0]} > ${inner[i][1]}`);
    if (h.ttl !== spec.ttl[i]) problems.push(`${h.point}: TTL ${h.ttl}, expected ${spec.ttl[i]}`);
    if (!mirrored && spec.frameLen && h.frameLen !== spec.frameLen[i]) problems.push(`${h.point}: ${h.frameLen} bytes, expected ${spec.frameLen[i]}`);
    const shouldEncap = i === 3 || i === 4;
    if (h.encapsulated !== shouldEncap) problems.push(`${h.point}: encapsulated=${h.encapsulated}`);
    if (shouldEncap) {
      const o = h.outer;
      if (o.ethSrc !== mac(a, 'eth0') || o.ethDst !== mac(b, 'eth0')) problems.push(`${h.point}: outer MACs ${o.ethSrc} > ${o.ethDst}`);
      if (o.ipSrc !== ip4(a, 'eth0') || o.ipDst !== ip4(b, 'eth0')) problems.push(`${h.point}: outer IPs ${o.ipSrc} > ${o.ipDst}`);
      if (o.udpDstPort !== VX_PORT || o.vni !== VX_VNI) problems.push(`${h.point}: UDP ${o.udpDstPort} VNI ${o.vni}`);
    }
  });
  const lens = flow.hops.map((h) => h.frameLen);
  if (lens[3] - lens[2] !== VXLAN_OVERHEAD || lens[5] - lens[4] !== -VXLAN_OVERHEAD) problems.push(`+50/-50 not at ${flow.hops[3].point}/${flow.hops[5].point}: ${lens.join(',')}`);
  if (new Set(flow.hops.map((h) => h.ipId)).size !== 1) problems.push('inner IP ID changed along the path');
  if (flow.hops[3].outer && flow.hops[4].outer && flow.hops[3].outer.ipId !== flow.hops[4].outer.ipId) problems.push('outer IP ID differs between the two eth0');
  check(`primer table: ${flow.name}`, problems.length === 0, problems.length ? problems : `TTL ${flow.hops.map((h) => h.ttl).join('/')}, bytes ${lens.join('/')}`);
}

if (META.primerCheck) {
  const spec = META.primerCheck;
  primerCheck(flows.find((f) => f.name === spec.flow), spec, false);
  const reply = flows.find((f) => f.direction === 'reply' && f.hops && f.name !== spec.flow);
  if (reply) primerCheck(reply, spec, true);
}

for (const c of captures) {
  check(`${c.file}: no packet dropped by the kernel`, c.droppedByKernel === 0, c.droppedByKernel);
  check(`tshark read every packet of ${c.file}`, c.tsharkPackets === c.packets, `${c.tsharkPackets} of ${c.packets}`);
}
for (const f of flows) if (f.error) check(`flow ${f.name}`, false, f.error);

// The primer: a learning VTEP with a fixed remote ARPs for the peer VTEP
// address through the tunnel; with nolearning and static entries no ARP
// crosses it.
if (META.tunnelArp !== undefined) {
  const tunnelled = (p) => (arp[p] || []).filter((a) => a.encapsulated);
  const n1 = tunnelled('node1-eth0');
  const n2 = tunnelled('node2-eth0');
  if (META.tunnelArp) {
    const peer = iface('node2', VX_DEV).addresses[0].split('/')[0];
    check(`ARP for the peer VTEP ${peer} crosses the tunnel`,
      n1.some((a) => a.op === 'request' && a.targetIp === peer) && n2.some((a) => a.op === 'reply' && a.senderIp === peer),
      n1.map((a) => `${a.op} ${a.targetIp}`));
  } else {
    check('no ARP crosses the tunnel', n1.length === 0 && n2.length === 0, n1.concat(n2).map((a) => `${a.op} ${a.targetIp}`));
  }
}

const anyCap = captures.find((c) => c.interface === 'any');
if (anyCap) check('-i any capture is LINKTYPE_LINUX_SLL2', anyCap.linkType === 'linux-sll2', anyCap.linkType);
const nsCap = captures.find((c) => c.variant);
if (nsCap) check('nanosecond pcap has nanosecond timestamps', /nano/.test(nsCap.timestampPrecision), nsCap.timestampPrecision);
const multi = captures.find((c) => c.format === 'pcapng');
if (multi) check('pcapng has one interface per capture point', multi.interfaces.length === 3, multi.interfaces.map((i) => i.name));

// ------------------------------------------------------------------ scenario facts

const manifest = {};

if (META.loss) {
  const L = META.loss;
  const stops = paths.request;
  const starts = (packetsAt[stops[0].point] || []).filter((p) => p.icmp?.type === L.icmpType && !p.outer);
  const packets = starts.map((s) => {
    const seenAt = stops.filter((st) => (packetsAt[st.point] || []).some((p) => sameFirst(p, s))).map((st) => st.point);
    const r = { icmpType: s.icmp.type, icmpSeq: s.icmp.seq, ipId: s.ip.id, seenAt };
    if (seenAt.length < stops.length) {
      const idx = stops.findIndex((st) => !seenAt.includes(st.point));
      r.lostBetween = [stops[idx - 1]?.point ?? null, stops[idx].point];
    }
    return r;
  });
  const lost = packets.filter((p) => p.lostBetween);
  manifest.loss = {
    injected: L,
    requests: packets,
    lost: lost.map((p) => ({ icmpSeq: p.icmpSeq, lostBetween: p.lostBetween })),
    delivered: packets.filter((p) => !p.lostBetween).map((p) => p.icmpSeq),
  };
  check('lost packets are exactly the injected ones, at the injected hop',
    JSON.stringify(lost.map((p) => p.icmpSeq)) === JSON.stringify(L.seqs) && lost.every((p) => JSON.stringify(p.lostBetween) === JSON.stringify(L.between)),
    lost.map((p) => `seq ${p.icmpSeq} between ${p.lostBetween.join(' and ')}`));
  const replies = (packetsAt['ns1-veth1a'] || []).filter((p) => p.icmp?.type === 0).map((p) => p.icmp.seq);
  check('echo replies only for delivered requests', JSON.stringify(replies) === JSON.stringify(manifest.loss.delivered), replies);
}

if (META.nat) {
  const N = META.nat;
  const tuple = (h) => ({ point: h.point, src: `${h.ipSrc}:${h.srcPort}`, dst: `${h.ipDst}:${h.dstPort}` });
  const natOf = (f) => {
    if (!f?.hops) return null;
    const seen = f.hops.filter((h) => h.seen);
    const changes = [];
    for (let i = 1; i < seen.length; i += 1) {
      const c = seen[i].changes.filter((x) => /NAT/.test(x));
      if (c.length) changes.push({ between: [seen[i - 1].point, seen[i].point], changes: c, before: tuple(seen[i - 1]), after: tuple(seen[i]) });
    }
    return { flow: f.name, tuples: seen.map(tuple), natChanges: changes };
  };
  const syn = flows.find((f) => f.name === 'tcp syn');
  const synack = flows.find((f) => f.name === 'tcp syn-ack');
  manifest.nat = { service: N, request: natOf(syn), reply: natOf(synack) };
  const h0 = syn?.hops?.[0];
  const hN = syn?.hops?.[syn.hops.length - 1];
  check('client sees the ClusterIP, server sees the pod IP and the SNAT address',
    h0 && hN && h0.ipDst === N.clusterIP && h0.dstPort === N.servicePort && hN.ipDst === N.podIP && hN.dstPort === N.podPort && hN.ipSrc === N.snatTo,
    h0 && hN ? `${h0.ipSrc}:${h0.srcPort} > ${h0.ipDst}:${h0.dstPort} became ${hN.ipSrc}:${hN.srcPort} > ${hN.ipDst}:${hN.dstPort}` : 'no syn');
  const natHops = manifest.nat.request?.natChanges.map((c) => c.between[1]) ?? [];
  check('all address changes happen inside node1', natHops.every((p) => p.startsWith('node1-')), natHops);
}

if (SCENARIO === 'mtu') {
  const mtus = {};
  for (const i of ifaces) (mtus[i.namespace] ??= {})[i.name] = i.mtu;
  const fragNeeded = [];
  for (const stop of request) {
    for (const p of packetsAt[stop.point] || []) {
      if (p.icmp?.type === 3 && p.icmp.code === 4) {
        fragNeeded.push({
          point: stop.point, frame: p.n, frameLen: p.len, from: p.ip.src, to: p.ip.dst, mtu: p.icmp.mtu,
          quoted: p.icmp.quoted && { src: p.icmp.quoted.src, dst: p.icmp.quoted.dst, ipLen: p.icmp.quoted.len, df: p.icmp.quoted.df },
        });
      }
    }
  }
  const fragmented = flows.filter((f) => f.hops).map((f) => {
    const seen = f.hops.filter((h) => h.seen);
    const at = seen.findIndex((h) => h.fragments);
    return { flow: f.name, fragmentedBetween: at > 0 ? [seen[at - 1].point, seen[at].point] : at === 0 ? [null, seen[0].point] : null,
      fragments: at >= 0 ? seen[at].fragments : null };
  });
  manifest.mtu = { mtus, fragNeeded, fragmentation: fragmented.filter((x) => x.fragments) };
  check('node1 answers an oversized DF packet with fragmentation needed, mtu = the VXLAN device MTU',
    fragNeeded.length > 0 && fragNeeded.every((x) => x.mtu === iface('node1', VX_DEV).mtu && x.from === iface('node1', BRIDGE).addresses[0].split('/')[0]),
    fragNeeded.map((x) => `${x.point}: from ${x.from} mtu ${x.mtu}`));
  const big = flows.find((f) => f.name.startsWith('oversized echo request without DF'));
  check('the oversized packet without DF is fragmented where it enters the VXLAN device',
    big?.hops && JSON.stringify(fragmented.find((x) => x.flow === big.name)?.fragmentedBetween) === JSON.stringify([`node1-${BRIDGE}`, `node1-${VX_DEV}`]));
  const df = flows.find((f) => f.name.startsWith('oversized echo request with DF'));
  check('the oversized DF packet goes no further than node1\'s bridge',
    JSON.stringify(df?.lostBetween) === JSON.stringify([`node1-${BRIDGE}`, `node1-${VX_DEV}`]), df?.lostBetween);
  const bigReply = flows.find((f) => f.name.startsWith('oversized echo reply'));
  check('the oversized echo reply (no DF) is fragmented by node2 on its way into the tunnel',
    JSON.stringify(fragmented.find((x) => x.flow === bigReply?.name)?.fragmentedBetween) === JSON.stringify([`node2-${BRIDGE}`, `node2-${VX_DEV}`]));
  const fits = flows.find((f) => f.name.startsWith('largest'));
  check('a packet of exactly the VXLAN MTU crosses whole (1514-byte frame on eth0)',
    fits?.hops?.every((h) => h.seen && !h.fragments) && fits.hops[3].frameLen === 1514, fits?.hops?.map((h) => h.frameLen));
}

// ------------------------------------------------------------------ output

const traffic = fs.readdirSync(path.join(work, 'traffic')).sort().map((d) => {
  const p = (n) => readText(path.join(work, 'traffic', d, n));
  return { namespace: p('ns'), command: p('cmd'), exitCode: Number(p('rc')), output: p('out').split('\n').filter((l) => l !== '') };
});
const setup = readText(path.join(work, 'setup.tsv')).split('\n').filter(Boolean).map((l) => {
  const [ns, cmd] = l.split('\t');
  return `${ns}: ${unprefix(cmd)}`;
});
const firstLine = (cmd, args) => run(cmd, args).split('\n').find((l) => l.trim()) ?? null;

const result = {
  schema: 1,
  scenario: SCENARIO,
  title: env.SC_TITLE,
  generatedBy: 'scripts/lab/run.sh',
  regenerate: `bash scripts/lab/run.sh --scenario ${SCENARIO}`,
  environment: {
    kernel: firstLine('uname', ['-r']),
    tcpdump: firstLine('tcpdump', ['--version']),
    libpcap: run('tcpdump', ['--version']).split('\n').find((l) => l.startsWith('libpcap')) ?? null,
    tshark: firstLine('tshark', ['--version']),
    iproute2: firstLine('ip', ['-V']),
  },
  vxlan: { device: VX_DEV, vni: VX_VNI, udpPort: VX_PORT, bridge: BRIDGE },
  topology: {
    namespaces: { node1: 'node', node2: 'node', ns1: 'pod on node1', ns2: 'pod on node2' },
    links: [
      { a: 'node1/eth0', b: 'node2/eth0', what: 'underlay (veth pair)' },
      { a: 'ns1/veth1a', b: `node1/veth1b`, what: `pod link (veth pair), veth1b on ${BRIDGE}` },
      { a: 'ns2/veth2a', b: `node2/veth2b`, what: `pod link (veth pair), veth2b on ${BRIDGE}` },
    ],
    interfaces: ifaces,
    routes: routes(path.join(work, 'state-before')),
    neighboursBefore: neighbours(path.join(work, 'state-before')),
    neighboursAfter: neighbours(path.join(work, 'state-after')),
    vxlanFdbBefore: vxlanFdb(path.join(work, 'state-before')),
    vxlanFdbAfter: vxlanFdb(path.join(work, 'state-after')),
    nftBefore: nftRulesets(path.join(work, 'state-before')),
    nftAfter: nftRulesets(path.join(work, 'state-after')),
    sysctls: sysctls(path.join(work, 'state-before')),
  },
  setup,
  traffic,
  tshark: {
    command: `tshark -r FILE ${readText(path.join(work, 'tshark-options.txt')).trim()}`,
    postProcessing: 'each packet on one line; _index, _type and _score dropped (tshark -T json otherwise)',
  },
  captures,
  capturePoints: { request: paths.request, reply: paths.reply },
  flows,
  arp,
  ...manifest,
  checks,
};

fs.writeFileSync(path.join(out, 'manifest.json'), `${JSON.stringify(result, null, 2)}\n`);
const failed = checks.filter((c) => !c.ok);
for (const c of checks) console.error(`[lab ${SCENARIO}] ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.ok ? '' : `: ${JSON.stringify(c.detail)}`}`);
process.exit(failed.length ? 1 : 0);
