/**
 * An order-independent digest of a set of records, so that an audit can
 * compare the derived records a store holds with those its entries imply in
 * one pass over each, without holding either set in memory.
 *
 * @module
 */
/** Order-independent 128-bit digest of a set of key/value pairs (not cryptographic). */
export class SetDigest {
  lanes = new Uint32Array(4);
  count = 0;
  #h0 = 0;
  #h1 = 0;
  #h2 = 0;
  #h3 = 0;
  #mix(x: number): void {
    this.#h0 = Math.imul(this.#h0 ^ x, 0x01000193);
    this.#h1 = Math.imul(this.#h1 ^ x, 0x5bd1e995);
    this.#h2 = Math.imul((this.#h2 ^ x) + 0x27d4eb2d, 0x165667b1);
    this.#h3 = Math.imul(this.#h3 ^ (x + (this.#h3 >>> 15)), 0x85ebca77);
  }
  // Lengths are mixed first, so packing several units per word stays unambiguous.
  #mixBytes(b: Uint8Array): void {
    this.#mix(b.length);
    let i = 0;
    for (; i + 4 <= b.length; i += 4) {
      this.#mix((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);
    }
    for (; i < b.length; i++) this.#mix(b[i]);
  }
  #mixText(s: string): void {
    this.#mix(s.length);
    let i = 0;
    for (; i + 2 <= s.length; i += 2) this.#mix((s.charCodeAt(i) << 16) | s.charCodeAt(i + 1));
    if (i < s.length) this.#mix(s.charCodeAt(i));
  }
  /** Add one record; returns its 32-bit hash (for the per-entry sums that locate a fault). */
  add(parts: readonly (string | number | Uint8Array)[]): number {
    this.#h0 = 0x811c9dc5;
    this.#h1 = 0x01000193 ^ 0x9e3779b9;
    this.#h2 = 0x85ebca6b;
    this.#h3 = 0xc2b2ae35;
    for (const p of parts) {
      if (typeof p === "string") {
        this.#mix(1);
        this.#mixText(p);
      } else if (typeof p === "number") {
        this.#mix(2);
        this.#mixText(Object.is(p, -0) ? "-0" : String(p));
      } else {
        this.#mix(3);
        this.#mixBytes(p);
      }
    }
    const h = [this.#h0, this.#h1, this.#h2, this.#h3];
    for (let i = 0; i < 4; i++) {
      let x = h[i];
      x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
      x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
      h[i] = (x ^ (x >>> 16)) >>> 0;
      this.lanes[i] = (this.lanes[i] + h[i]) >>> 0;
    }
    this.count++;
    return h[0];
  }
  equals(o: SetDigest): boolean {
    return this.count === o.count && this.lanes.every((v, i) => v === o.lanes[i]);
  }
}
