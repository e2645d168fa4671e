/**
 * A small deterministic ZIP writer and reader for evidence packs
 * (APPNOTE.TXT 6.3.10): STORE only (method 0), every timestamp
 * 1980-01-01 00:00, UTF-8 names (flag bit 11), CRC-32 of each file, ZIP64
 * records only when a count or offset needs them. The same files written
 * in the same order give the same bytes, on any machine.
 *
 * Why our own: the pack must be byte-identical whichever process writes it
 * (CLI or server), written as a stream (entries as they are read), and
 * read strictly by the verifier (a CRC or offset that does not add up is
 * named); a general-purpose library adds timestamps, compression levels and
 * leniency we would have to pin or undo, for ~150 lines of format.
 *
 * STORE rather than DEFLATE: packs are read years later by tools we do not
 * know, and compression output is not guaranteed identical across zlib
 * versions, while the pack's bytes are compared across processes.
 *
 * @module
 */
import { RegledgerError } from "../../core/errors.ts";

/**
 * CRC tables for slicing-by-8: table k (at k·256) gives the CRC of a byte
 * followed by k zero bytes, so eight bytes fold in with eight lookups and
 * no per-byte dependency chain (several times the byte-at-a-time speed).
 */
const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + n];
      t[k * 256 + n] = (t[prev & 0xff] ^ (prev >>> 8)) >>> 0;
    }
  }
  return t;
})();

/** CRC-32 (ISO-HDLC, the ZIP and gzip polynomial) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  const t = CRC_TABLES;
  let c = 0xffffffff;
  let i = 0;
  const end8 = bytes.length - (bytes.length & 7);
  for (; i < end8; i += 8) {
    const a = (c ^ (bytes[i] | bytes[i + 1] << 8 | bytes[i + 2] << 16 | bytes[i + 3] << 24)) >>> 0;
    c = t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^ t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^ t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A ZIP archive could not be read: not a ZIP, truncated, or using a feature we do not write. */
export class ZipFormatError extends RegledgerError {}

const DOS_DATE_1980 = 0x21; // 1980-01-01
const FLAG_UTF8 = 0x0800;
const U32 = 0xffffffff;
const U16 = 0xffff;
/** The writer hands the sink chunks of about this size (1 MiB), not two per file. */
const FLUSH_AT = 1 << 20;

interface CentralRecord {
  name: Uint8Array;
  crc: number;
  size: number;
  offset: number;
}

/**
 * Writes a ZIP archive as a stream of chunks: {@link add} queues one
 * file's local header and bytes, handing the sink a chunk whenever about
 * 1 MiB is queued; {@link finish} writes the central directory, listing
 * files in the order given to it (so a file written last can be listed
 * first), and hands over the rest. The bytes are the same however they
 * are chunked.
 */
export class ZipWriter {
  readonly #sink: (chunk: Uint8Array) => Promise<void>;
  readonly #records = new Map<string, CentralRecord>();
  #offset = 0;
  #finished = false;
  /** Bytes not yet sent: small files go to the sink together, in chunks of about {@link FLUSH_AT}. */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  /** A writer sending its bytes to `sink`, in order. */
  constructor(sink: (chunk: Uint8Array) => Promise<void>) {
    this.#sink = sink;
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.#offset;
  }

  async #write(chunk: Uint8Array): Promise<void> {
    this.#offset += chunk.length;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= FLUSH_AT) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const parts = this.#pending;
    let chunk = parts[0];
    if (parts.length > 1) {
      chunk = new Uint8Array(this.#pendingBytes);
      let at = 0;
      for (const p of parts) {
        chunk.set(p, at);
        at += p.length;
      }
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#sink(chunk);
  }

  /**
   * Add a file (stored, not compressed).
   * @throws {RangeError} for an empty, absolute or duplicate name, or a file of 4 GiB or more.
   */
  async add(name: string, data: Uint8Array): Promise<void> {
    if (this.#finished) throw new RangeError("the archive is finished");
    if (name === "" || name.startsWith("/") || name.split("/").includes("..")) {
      throw new RangeError(`bad file name ${JSON.stringify(name)}`);
    }
    if (this.#records.has(name)) throw new RangeError(`duplicate file name ${name}`);
    if (data.length >= U32) throw new RangeError(`${name} is 4 GiB or larger`);
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data);
    const h = new Uint8Array(30 + nameBytes.length);
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, 20, true); // version needed: 2.0
    v.setUint16(6, FLAG_UTF8, true);
    v.setUint16(8, 0, true); // STORE
    v.setUint16(10, 0, true); // time 00:00:00
    v.setUint16(12, DOS_DATE_1980, true);
    v.setUint32(14, crc, true);
    v.setUint32(18, data.length, true);
    v.setUint32(22, data.length, true);
    v.setUint16(26, nameBytes.length, true);
    h.set(nameBytes, 30);
    this.#records.set(name, { name: nameBytes, crc, size: data.length, offset: this.#offset });
    await this.#write(h);
    await this.#write(data);
  }

  /**
   * Write the central directory and end records: the files named in
   * `first` (in that order), then every other file in the order added.
   */
  async finish(first: readonly string[] = []): Promise<void> {
    if (this.#finished) throw new RangeError("the archive is finished");
    this.#finished = true;
    const order = [
      ...new Set([...first.filter((n) => this.#records.has(n)), ...this.#records.keys()]),
    ];
    const cdStart = this.#offset;
    for (const n of order) {
      const r = this.#records.get(n)!;
      const big = r.offset >= U32;
      const h = new Uint8Array(46 + r.name.length + (big ? 12 : 0));
      const v = new DataView(h.buffer);
      v.setUint32(0, 0x02014b50, true);
      v.setUint16(4, big ? 45 : 20, true); // made by (MS-DOS attributes)
      v.setUint16(6, big ? 45 : 20, true); // needed
      v.setUint16(8, FLAG_UTF8, true);
      v.setUint16(10, 0, true);
      v.setUint16(12, 0, true);
      v.setUint16(14, DOS_DATE_1980, true);
      v.setUint32(16, r.crc, true);
      v.setUint32(20, r.size, true);
      v.setUint32(24, r.size, true);
      v.setUint16(28, r.name.length, true);
      v.setUint16(30, big ? 12 : 0, true);
      v.setUint32(42, big ? U32 : r.offset, true);
      h.set(r.name, 46);
      if (big) {
        const x = 46 + r.name.length;
        v.setUint16(x, 0x0001, true);
        v.setUint16(x + 2, 8, true);
        v.setBigUint64(x + 4, BigInt(r.offset), true);
      }
      await this.#write(h);
    }
    const cdSize = this.#offset - cdStart;
    const count = order.length;
    const zip64 = count >= U16 || cdStart >= U32 || cdSize >= U32;
    if (zip64) {
      const rec = new Uint8Array(56 + 20);
      const v = new DataView(rec.buffer);
      const at = this.#offset;
      v.setUint32(0, 0x06064b50, true);
      v.setBigUint64(4, 44n, true);
      v.setUint16(12, 45, true);
      v.setUint16(14, 45, true);
      v.setBigUint64(24, BigInt(count), true);
      v.setBigUint64(32, BigInt(count), true);
      v.setBigUint64(40, BigInt(cdSize), true);
      v.setBigUint64(48, BigInt(cdStart), true);
      v.setUint32(56, 0x07064b50, true); // locator
      v.setBigUint64(64, BigInt(at), true);
      v.setUint32(72, 1, true);
      await this.#write(rec);
    }
    const end = new Uint8Array(22);
    const e = new DataView(end.buffer);
    e.setUint32(0, 0x06054b50, true);
    e.setUint16(8, zip64 ? U16 : count, true);
    e.setUint16(10, zip64 ? U16 : count, true);
    e.setUint32(12, zip64 ? U32 : cdSize, true);
    e.setUint32(16, zip64 ? U32 : cdStart, true);
    await this.#write(end);
    await this.#flush();
  }
}

/** One file read from an archive. */
export interface ZipFile {
  /** Its name in the archive. */
  name: string;
  /** Its bytes (a view into the archive). */
  data: Uint8Array;
  /** Whether the bytes match the CRC-32 the archive records for them. */
  crcOk: boolean;
}

/**
 * Read a STORE-only ZIP archive (what {@link ZipWriter} writes), in
 * central-directory order. A file whose bytes do not match its CRC-32 is
 * returned with `crcOk: false`, for the caller to name.
 *
 * @throws {ZipFormatError} when the bytes are not such an archive.
 */
export function readZip(bytes: Uint8Array): ZipFile[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (msg: string): never => {
    throw new ZipFormatError(`not a readable evidence pack: ${msg}`);
  };
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - U16); i--) {
    if (v.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad("no end-of-central-directory record (not a ZIP archive)");
  let count = v.getUint16(eocd + 10, true);
  let cdSize = v.getUint32(eocd + 12, true);
  let cdStart = v.getUint32(eocd + 16, true);
  if (count === U16 || cdSize === U32 || cdStart === U32) {
    const loc = eocd - 20;
    if (loc < 0 || v.getUint32(loc, true) !== 0x07064b50) bad("missing ZIP64 locator");
    const rec = Number(v.getBigUint64(loc + 8, true));
    if (rec + 56 > bytes.length || v.getUint32(rec, true) !== 0x06064b50) {
      bad("missing ZIP64 end record");
    }
    count = Number(v.getBigUint64(rec + 32, true));
    cdSize = Number(v.getBigUint64(rec + 40, true));
    cdStart = Number(v.getBigUint64(rec + 48, true));
  }
  if (cdStart + cdSize > bytes.length) bad("central directory runs past the end");
  const files: ZipFile[] = [];
  const names = new Set<string>();
  const dec = new TextDecoder("utf-8", { fatal: true });
  let p = cdStart;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdStart + cdSize || v.getUint32(p, true) !== 0x02014b50) {
      bad(`central directory entry ${i} is malformed`);
    }
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    const csize = v.getUint32(p + 20, true);
    const usize = v.getUint32(p + 24, true);
    const nlen = v.getUint16(p + 28, true);
    const xlen = v.getUint16(p + 30, true);
    const clen = v.getUint16(p + 32, true);
    let offset = v.getUint32(p + 42, true);
    let name = "";
    try {
      name = dec.decode(bytes.subarray(p + 46, p + 46 + nlen));
    } catch {
      bad(`central directory entry ${i} has a name that is not UTF-8`);
    }
    if (offset === U32) {
      // ZIP64 extended information: only the offset is ever 0xFFFFFFFF here.
      const x = p + 46 + nlen;
      if (xlen < 12 || v.getUint16(x, true) !== 1 || v.getUint16(x + 2, true) < 8) {
        bad(`${name}: missing ZIP64 offset`);
      }
      offset = Number(v.getBigUint64(x + 4, true));
    }
    if (method !== 0 || csize !== usize) bad(`${name}: compressed (only STORE is read)`);
    if (names.has(name)) bad(`${name}: appears twice`);
    names.add(name);
    if (offset + 30 > bytes.length || v.getUint32(offset, true) !== 0x04034b50) {
      bad(`${name}: no local header at offset ${offset}`);
    }
    const start = offset + 30 + v.getUint16(offset + 26, true) + v.getUint16(offset + 28, true);
    if (start + usize > bytes.length) bad(`${name}: data runs past the end`);
    const data = bytes.subarray(start, start + usize);
    files.push({ name, data, crcOk: crc32(data) === crc });
    p += 46 + nlen + xlen + clen;
  }
  return files;
}
