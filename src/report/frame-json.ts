import type { Frame } from '../capture/frame.js';
import { linkTypeName } from '../capture/linktypes.js';
import { isoTime } from './time.js';

/** The "frame" object of vxdump's JSON output (documented in the README). */
export interface FrameJson {
  number: number;
  /** Nanoseconds since the epoch, as a decimal string: JSON numbers cannot hold them exactly. */
  timestampNs: string;
  time: string;
  capturedLength: number;
  originalLength: number;
  /** The interface name where the capture records one, else its number. */
  interface: string | number;
  /** Link-type name ("EN10MB", "LINUX_SLL2", ... or "LINKTYPE_<n>"). */
  linkType: string;
}

export function frameToJson(frame: Frame): FrameJson {
  return {
    number: frame.index,
    timestampNs: frame.timestampNs.toString(),
    time: isoTime(frame.timestampNs),
    capturedLength: frame.capturedLength,
    originalLength: frame.originalLength,
    interface: frame.interfaceName ?? frame.interfaceId,
    linkType: linkTypeName(frame.linkType),
  };
}
