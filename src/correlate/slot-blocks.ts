/** Slots per block: a power of two, so that a slot's block is a shift away. */
const BLOCK_SHIFT = 8;
export const BLOCK_SLOTS = 1 << BLOCK_SHIFT;

/**
 * The slot numbers of the sighting store: handed out in order, a block of consecutive slots at
 * a time, and taken back one by one in whatever order journeys end.
 *
 * Consecutive slots let a run of sightings be copied into the store a column at a time (a
 * memory copy, where slot by slot would touch every column once per sighting), and keep the
 * sightings of one moment near each other in memory. A block is reused once every slot it
 * handed out has come back. Journeys end in about the order they started, a window or two
 * after, so blocks come back in about that order too and the store stays the size of what is
 * in flight.
 */
export class SlotBlocks {
  /** Per block: slots handed out and not yet taken back. */
  private live = new Int32Array(0);
  /** Blocks with no live slot that are not being handed out. */
  private freeBlocks = new Int32Array(0);
  private freeCount = 0;
  private blocks = 0;
  /** The block being handed out, and its next slot (BLOCK_SLOTS: none left). */
  private current = -1;
  private next = BLOCK_SLOTS;
  /** Slots handed out and not yet taken back, over all blocks. */
  inUse = 0;

  constructor(
    initialSlots: number,
    /** Called with the new number of slots whenever the blocks grow. */
    private readonly onGrow: (capacity: number) => void,
  ) {
    this.addBlocks(Math.max(1, Math.ceil(initialSlots / BLOCK_SLOTS)));
  }

  get capacity(): number {
    return this.blocks * BLOCK_SLOTS;
  }

  /** How many consecutive slots the next take() may ask for (1 to BLOCK_SLOTS). */
  room(): number {
    if (this.next === BLOCK_SLOTS) this.openBlock();
    return BLOCK_SLOTS - this.next;
  }

  /** The first of `count` consecutive slots (count <= room()). */
  take(count = 1): number {
    if (this.next === BLOCK_SLOTS) this.openBlock();
    const first = (this.current << BLOCK_SHIFT) + this.next;
    this.next += count;
    this.live[this.current] += count;
    this.inUse += count;
    return first;
  }

  release(slot: number): void {
    const block = slot >>> BLOCK_SHIFT;
    this.inUse -= 1;
    // The block being handed out is freed when it is left (openBlock), not while in use.
    if (--this.live[block]! === 0 && block !== this.current) this.freeBlocks[this.freeCount++] = block;
  }

  private openBlock(): void {
    if (this.current >= 0 && this.live[this.current] === 0) this.freeBlocks[this.freeCount++] = this.current;
    if (this.freeCount === 0) this.addBlocks(this.blocks);
    this.current = this.freeBlocks[--this.freeCount]!;
    this.next = 0;
  }

  /** `count` more blocks, free; the lowest is handed out first. */
  private addBlocks(count: number): void {
    const first = this.blocks;
    this.blocks += count;
    const live = new Int32Array(this.blocks);
    live.set(this.live);
    this.live = live;
    const free = new Int32Array(this.blocks);
    free.set(this.freeBlocks.subarray(0, this.freeCount));
    this.freeBlocks = free;
    for (let block = this.blocks - 1; block >= first; block--) this.freeBlocks[this.freeCount++] = block;
    this.onGrow(this.capacity);
  }
}
