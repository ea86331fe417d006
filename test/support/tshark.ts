import { execFile, spawnSync } from 'node:child_process';

export function tsharkAvailable(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** One record as tshark's frame dissector sees it. */
export interface TsharkFrame {
  number: number;
  /** Nanoseconds since the epoch; undefined where the record has no time (Simple Packet Block). */
  timestampNs: bigint | undefined;
  capturedLength: number;
  originalLength: number;
  interfaceId: number | undefined;
  /** Wiretap encapsulation; undefined for records that are not packets (pcapng custom blocks). */
  encapsulation: number | undefined;
}

export interface TsharkFrameList {
  frames: TsharkFrame[];
  /** What tshark said on stderr when it could not read the whole file. */
  error: string | undefined;
}

/**
 * Frame-level facts of every record, with every protocol above "frame" switched off so that
 * only the file format is being compared, and fast.
 */
export function tsharkFrames(path: string): Promise<TsharkFrameList> {
  return new Promise((resolveList) => {
    execFile(
      'tshark',
      [
      '-n', '-r', path,
      '--disable-protocol', 'ALL', '--enable-protocol', 'frame',
      '-T', 'fields',
      '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.cap_len', '-e', 'frame.len',
      '-e', 'frame.interface_id', '-e', 'frame.encap_type',
      ],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => resolveList(parseFrameList(stdout, stderr, error === null ? 0 : (error.code ?? 1))),
    );
  });
}

function parseFrameList(stdout: string, stderr: string, status: number | string): TsharkFrameList {
  const frames = stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [number, time, caplen, len, iface, encap] = line.split('\t');
      return {
        number: Number(number),
        timestampNs: time ? epochToNs(time) : undefined,
        capturedLength: Number(caplen),
        originalLength: Number(len),
        interfaceId: iface ? Number(iface) : undefined,
        encapsulation: encap ? Number(encap) : undefined,
      };
    });
  const message = stderr.replace(/^Running as user.*\n/m, '').trim();
  return { frames, error: status === 0 ? undefined : message || `tshark exited ${status}` };
}

/**
 * "1481561514.944416123" → 1481561514944416123n, exactly (no float on the way). tshark prints
 * the nanoseconds with %09d, so a record whose fraction is out of range (≥ 1 s) shows more than
 * nine digits: those are still a count of nanoseconds.
 */
export function epochToNs(epoch: string): bigint {
  const negative = epoch.startsWith('-');
  const [seconds, fraction = ''] = (negative ? epoch.slice(1) : epoch).split('.');
  const nanoseconds = fraction.length > 9 ? BigInt(fraction) : BigInt(fraction.padEnd(9, '0'));
  const ns = BigInt(seconds!) * 1_000_000_000n + nanoseconds;
  return negative ? -ns : ns;
}
