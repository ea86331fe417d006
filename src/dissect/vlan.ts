import { u16 } from './bytes.js';
import type { DecodeContext } from './context.js';
import { LayerBase, type Fields } from './layer.js';

/** The EtherTypes of a VLAN tag: 802.1Q, the outer tag of pre-standard QinQ, and an 802.1ad service tag. */
export const ETHERTYPE_8021Q = 0x8100;
export const ETHERTYPE_QINQ_PRESTANDARD = 0x9100;
export const ETHERTYPE_8021AD = 0x88a8;

/** Whether an EtherType announces a VLAN tag (the dissector table decodes these as VLAN layers). */
export function isTagType(etype: number): boolean {
  return etype === ETHERTYPE_8021Q || etype === ETHERTYPE_8021AD || etype === ETHERTYPE_QINQ_PRESTANDARD;
}

/**
 * An IEEE 802.1Q VLAN tag (EtherType 0x8100, and 0x9100 of pre-standard QinQ), or an 802.1ad
 * service tag (EtherType 0x88a8); stacked tags are simply one layer each.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | PCP |D|         VLAN ID       |           EtherType           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  (the tag's own EtherType, 0x8100 or 0x88a8, is the field before it)
 *
 * Wireshark calls the 802.1ad layer "ieee8021ad" and its inner type field ieee8021ah.etype
 * (sic: the 802.1ad dissector shares that field with 802.1ah); we use its names as they are.
 */
export class VlanLayer extends LayerBase {
  get protocol(): 'vlan' {
    return 'vlan';
  }

  declare readonly offset: number;
  declare readonly length: number;
  declare readonly depth: number;

  declare readonly priority: number;
  declare readonly dei: boolean;
  declare readonly id: number;
  /** EtherType of what follows the tag. */
  declare readonly etype: number;

  constructor(
    offset: number,
    depth: number,
    priority: number,
    dei: boolean,
    id: number,
    etype: number,
  ) {
    super();
    this.offset = offset;
    this.length = TAG;
    this.depth = depth;
    this.quoted = false;
    this.cachedFields = undefined;
    this.priority = priority;
    this.dei = dei;
    this.id = id;
    this.etype = etype;
  }

  protected buildFields(): Fields {
    return { 'vlan.priority': this.priority, 'vlan.dei': this.dei, 'vlan.id': this.id, 'vlan.etype': this.etype };
  }

  protected buildFieldsJson(): string {
    return `{"vlan.priority":${this.priority},"vlan.dei":${this.dei},"vlan.id":${this.id},"vlan.etype":${this.etype}}`;
  }
}

/** An 802.1ad service tag (S-tag), the outer tag of QinQ. */
export class Ieee8021adLayer extends LayerBase {
  get protocol(): 'ieee8021ad' {
    return 'ieee8021ad';
  }

  declare readonly offset: number;
  declare readonly length: number;
  declare readonly depth: number;
  declare readonly priority: number;
  declare readonly dei: boolean;
  declare readonly id: number;
  declare readonly etype: number;

  constructor(
    offset: number,
    depth: number,
    priority: number,
    dei: boolean,
    id: number,
    etype: number,
  ) {
    super();
    this.offset = offset;
    this.length = TAG;
    this.depth = depth;
    this.quoted = false;
    this.cachedFields = undefined;
    this.priority = priority;
    this.dei = dei;
    this.id = id;
    this.etype = etype;
  }

  protected buildFields(): Fields {
    return {
      'ieee8021ad.priority': this.priority,
      'ieee8021ad.dei': this.dei,
      'ieee8021ad.id': this.id,
      'ieee8021ah.etype': this.etype,
    };
  }

  protected buildFieldsJson(): string {
    return (
      `{"ieee8021ad.priority":${this.priority},"ieee8021ad.dei":${this.dei},"ieee8021ad.id":${this.id},` +
      `"ieee8021ah.etype":${this.etype}}`
    );
  }
}

const TAG = 4;
/**
 * Tags on one frame. Real networks use two (QinQ); the limit stops a frame made of 0x8100
 * words from recursing once per four bytes.
 */
export const MAX_VLAN_TAGS = 8;

function countTags(ctx: DecodeContext): number {
  let n = 0;
  const layers = ctx.layers;
  for (let i = layers.length - 1; i >= 0; i--) {
    const p = layers[i]!.protocol;
    if (p === 'vlan' || p === 'ieee8021ad') n++;
    else break;
  }
  return n;
}

function decodeTag(ctx: DecodeContext, offset: number, end: number, serviceTag: boolean): void {
  const name = serviceTag ? 'ieee8021ad' : 'vlan';
  if (end - offset < TAG) return ctx.short(name, name, offset, end, TAG, 'tag');
  if (countTags(ctx) >= MAX_VLAN_TAGS) {
    return ctx.fail(name, name, offset, `more than ${MAX_VLAN_TAGS} stacked VLAN tags`, offset);
  }
  const b = ctx.bytes;
  const tci = u16(b, offset);
  const etype = u16(b, offset + 2);
  const priority = tci >>> 13;
  const dei = (tci & 0x1000) !== 0;
  const id = tci & 0x0fff;
  ctx.push(
    serviceTag
      ? new Ieee8021adLayer(offset, ctx.depth, priority, dei, id, etype)
      : new VlanLayer(offset, ctx.depth, priority, dei, id, etype),
  );
  // An EtherType ≤ 1500 would be an 802.3 length with LLC after it: not decoded.
  ctx.tables.ethertype[etype]?.(ctx, offset + TAG, end);
}

export function decodeVlan(ctx: DecodeContext, offset: number, end: number): void {
  decodeTag(ctx, offset, end, false);
}

export function decodeIeee8021ad(ctx: DecodeContext, offset: number, end: number): void {
  decodeTag(ctx, offset, end, true);
}
