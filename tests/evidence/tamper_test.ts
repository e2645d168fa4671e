/**
 * Tampering with a pack: changing any byte of any envelope, receipt or the
 * manifest inside the archive is exit 1 with JSON naming that file (and the
 * entry); a consistent forgery (file changed, CRC-32 and manifest hash
 * recomputed) is still caught by the receipt or the signature.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { runCli } from "../cli/_capture.ts";
import { crc32, readZip } from "../../ledger/evidence/zip.ts";
import { verifyEvidencePack } from "../../ledger/evidence/verify.ts";
import { packServer, TOKEN } from "./_pack.ts";

Deno.test({
  name: "evidence verify: any changed envelope, receipt or manifest byte is exit 1 naming the file",
  sanitizeResources: false,
  fn: async () => {
    const s = await packServer(9);
    try {
      const pack = `${s.dir}/p.zip`;
      const r = await runCli("evidence", "export", "--server", s.url, "--token", TOKEN, "-o", pack);
      assert.equal(r.code, 0, r.stderr);
      const bytes = await Deno.readFile(pack);
      const targets = readZip(bytes).filter((f) =>
        f.name === "manifest.json" || /^envelopes\/\d+\.(json|receipt)$/.test(f.name)
      ).map((f) => ({
        name: f.name,
        start: f.data.byteOffset - bytes.byteOffset,
        length: f.data.length,
      }));
      assert.equal(targets.length, 1 + 2 * 9);
      const tampered = `${s.dir}/t.zip`;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...targets),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          fc.integer({ min: 1, max: 255 }),
          async (t, where, xor) => {
            const copy = bytes.slice();
            const at = t.start + Math.floor(where * t.length);
            copy[at] ^= xor;
            await Deno.writeFile(tampered, copy);
            const v = await runCli("evidence", "verify", tampered);
            assert.equal(v.code, 1, `${t.name}@${at}: ${v.stdout}${v.stderr}`);
            const out = JSON.parse(v.stdout);
            assert.equal(out.ok, false);
            assert.equal(out.file, t.name);
            const m = /^envelopes\/(\d+)\./.exec(t.name);
            if (m) assert.equal(out.index, Number(m[1]));
          },
        ),
        { numRuns: 80 },
      );

      // A careful forger also fixes the CRC-32 and the manifest's hash: the proof still fails.
      const files = readZip(bytes);
      const env = files.find((f) => /^envelopes\/\d+\.json$/.test(f.name))!;
      const forged = await forge(
        bytes,
        env.name,
        (text) => text.replace('"issuer":"acme"', '"issuer":"acmf"'),
      );
      const v = await verifyEvidencePack(forged);
      assert.equal(v.ok, false);
      assert.equal(v.problems[0].file, env.name);
      assert.equal(v.problems[0].reason, "envelope-mismatch");
    } finally {
      await s.close();
    }
  },
});

/** Replace file `name` by an equally long edit, fixing its CRC-32 and the manifest (and its CRC). */
async function forge(
  bytes: Uint8Array,
  name: string,
  edit: (t: string) => string,
): Promise<Uint8Array> {
  const out = bytes.slice();
  const files = readZip(out);
  const dec = new TextDecoder();
  const patch = (fileName: string, data: Uint8Array) => {
    const f = files.find((x) => x.name === fileName)!;
    assert.equal(data.length, f.data.length);
    f.data.set(data);
    // Local header CRC at offset 14 of the header, central CRC at 16 of its record.
    const view = new DataView(out.buffer);
    const start = f.data.byteOffset;
    const local = start - 30 - new TextEncoder().encode(fileName).length;
    view.setUint32(local + 14, crc32(data), true);
    const cdName = new TextEncoder().encode(fileName);
    for (let p = 0; p < out.length - 46; p++) {
      if (
        view.getUint32(p, true) === 0x02014b50 && view.getUint16(p + 28, true) === cdName.length &&
        dec.decode(out.subarray(p + 46, p + 46 + cdName.length)) === fileName
      ) {
        view.setUint32(p + 16, crc32(data), true);
      }
    }
  };
  const target = files.find((f) => f.name === name)!;
  const before = dec.decode(target.data);
  const after = new TextEncoder().encode(edit(before));
  const oldHash = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", target.data.slice())));
  patch(name, after);
  const newHash = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", after)));
  const manifest = dec.decode(files.find((f) => f.name === "manifest.json")!.data);
  patch("manifest.json", new TextEncoder().encode(manifest.replace(oldHash, newHash)));
  return out;
}

function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}
