/**
 * Ed25519 through Web Crypto and @noble/ed25519 on the RFC 8032 §7.1 vectors
 * (cross-checked against each other), PEM encodings against what Python's
 * `cryptography` writes, and key providers (external signers fail closed).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { concatBytes, fromBase64, fromHex, toBase64, toHex } from "../../core/bytes.ts";
import {
  decodeSignatureBase64,
  type Ed25519Engine,
  Ed25519PrivateKey,
  Ed25519PublicKey,
  encodeSignatureBase64,
  webCryptoHasEd25519,
} from "../../core/ed25519.ts";
import { externalKeyProvider, InProcessKeyProvider } from "../../core/keys.ts";
import { SignerError } from "../../core/errors.ts";

// RFC 8032 §7.1 TEST 1, 2, 3 and SHA(abc) (also re-checked with Python's `cryptography`).
const RFC8032 = [
  {
    seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    pub: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    msg: "",
    sig:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    pub: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    msg: "72",
    sig:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    pub: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    msg: "af82",
    sig:
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
  {
    seed: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
    pub: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
    msg:
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    sig:
      "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
  },
];

const ENGINES: Ed25519Engine[] = ["webcrypto", "noble"];

Deno.test("ed25519: this runtime's Web Crypto has Ed25519 (the hot path)", async () => {
  assert.equal(await webCryptoHasEd25519(), true);
});

for (const engine of ENGINES) {
  Deno.test(`ed25519 (${engine}): RFC 8032 §7.1 vectors sign and verify`, async () => {
    for (const v of RFC8032) {
      const key = await Ed25519PrivateKey.fromSeed(fromHex(v.seed));
      assert.equal(toHex(key.publicKey.raw), v.pub);
      assert.equal(toHex(await key.sign(fromHex(v.msg), engine)), v.sig);
      const pub = Ed25519PublicKey.fromRaw(fromHex(v.pub));
      assert.equal(await pub.verify(fromHex(v.sig), fromHex(v.msg), engine), true);
      // Any flipped bit of the signature or message fails.
      const bad = fromHex(v.sig);
      bad[7] ^= 0x10;
      assert.equal(await pub.verify(bad, fromHex(v.msg), engine), false);
      assert.equal(
        await pub.verify(fromHex(v.sig), concatBytes(fromHex(v.msg), new Uint8Array([0])), engine),
        false,
      );
      assert.equal(await pub.verify(fromHex(v.sig).subarray(0, 63), fromHex(v.msg), engine), false);
    }
  });
}

Deno.test("ed25519: Web Crypto and noble agree on random keys and messages", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.nat(63 * 8),
      async (seed, msg, bit) => {
        const key = await Ed25519PrivateKey.fromSeed(seed);
        const a = await key.sign(msg, "webcrypto");
        const b = await key.sign(msg, "noble");
        assert.deepEqual(a, b); // Ed25519 is deterministic
        for (const engine of ENGINES) {
          assert.equal(await key.publicKey.verify(a, msg, engine), true);
        }
        const bad = a.slice();
        bad[bit >> 3] ^= 1 << (bit & 7);
        const verdicts = await Promise.all(ENGINES.map((e) => key.publicKey.verify(bad, msg, e)));
        assert.deepEqual(verdicts, [false, false]);
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("ed25519: non-canonical S (S + L) is rejected by both engines", async () => {
  const v = RFC8032[0];
  const sig = fromHex(v.sig);
  // S is little-endian in the last 32 bytes; add the group order L.
  const L = fromHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const s = sig[32 + i] + L[i] + carry;
    sig[32 + i] = s & 0xff;
    carry = s >> 8;
  }
  const pub = Ed25519PublicKey.fromRaw(fromHex(v.pub));
  for (const engine of ENGINES) {
    assert.equal(await pub.verify(sig, new Uint8Array(), engine), false);
  }
});

// TEST 1's key as written by Python `cryptography` (PKCS8 / SubjectPublicKeyInfo PEM).
const PY_PRIVATE_PEM = "-----BEGIN PRIVATE KEY-----\n" +
  "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
const PY_PUBLIC_PEM = "-----BEGIN PUBLIC KEY-----\n" +
  "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n";

Deno.test("ed25519: PEM round-trips byte-exactly with Python cryptography's output", async () => {
  const key = await Ed25519PrivateKey.fromPkcs8Pem(PY_PRIVATE_PEM);
  assert.equal(toHex(key.publicKey.raw), RFC8032[0].pub);
  assert.equal(key.toPkcs8Pem(), PY_PRIVATE_PEM);
  assert.equal(key.publicKey.toPem(), PY_PUBLIC_PEM);
  assert.equal(Ed25519PublicKey.fromPem(PY_PUBLIC_PEM).equals(key.publicKey), true);
  // CRLF and no trailing newline still parse.
  assert.equal(
    Ed25519PublicKey.fromPem(PY_PUBLIC_PEM.trim().replaceAll("\n", "\r\n")).equals(key.publicKey),
    true,
  );
  // PKCS#8 v2 with the public key attached (RFC 8410 §7 OneAsymmetricKey).
  const v1 = fromBase64(PY_PRIVATE_PEM.split("\n")[1]);
  const v2 = concatBytes(
    fromHex("3051020101300506032b657004220420"),
    v1.subarray(16),
    fromHex("812100"),
    key.publicKey.raw,
  );
  const pemV2 = `-----BEGIN PRIVATE KEY-----\n${
    btoa(String.fromCharCode(...v2))
  }\n-----END PRIVATE KEY-----\n`;
  assert.equal((await Ed25519PrivateKey.fromPkcs8Pem(pemV2)).publicKey.equals(key.publicKey), true);
  v2[v2.length - 1] ^= 1;
  const wrongPub = `-----BEGIN PRIVATE KEY-----\n${
    btoa(String.fromCharCode(...v2))
  }\n-----END PRIVATE KEY-----\n`;
  await assert.rejects(Ed25519PrivateKey.fromPkcs8Pem(wrongPub), /does not match/);
});

Deno.test("ed25519: malformed and non-Ed25519 PEM are TypeErrors", async () => {
  // An X25519 SPKI key (OID 1.3.101.110) and a P-256 key, both from `openssl genpkey`.
  const x25519 =
    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEAwIDafDPyAq7r1sTYLxKtMewVwIHpIgLLyKO2KsLXH0w=\n-----END PUBLIC KEY-----\n";
  const p256 = "-----BEGIN PUBLIC KEY-----\n" +
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEcU7FvccyWt8tfyqA4fnKaxAJ7uOj\n" +
    "YSxArASggK7xojx3Vdd2M3qcljzbJ4298eR9EzjO39Cm+aVd57b6wmeTJQ==\n-----END PUBLIC KEY-----\n";
  for (const bad of [x25519, p256, "nope", PY_PUBLIC_PEM.replace("MCow", "MC*w"), PY_PRIVATE_PEM]) {
    assert.throws(() => Ed25519PublicKey.fromPem(bad), TypeError);
  }
  await assert.rejects(Ed25519PrivateKey.fromPkcs8Pem(PY_PUBLIC_PEM), TypeError);
  assert.throws(() => Ed25519PublicKey.fromRaw(new Uint8Array(31)), TypeError);
  await assert.rejects(Ed25519PrivateKey.fromSeed(new Uint8Array(33)), TypeError);
});

Deno.test("ed25519: a private key never prints or serializes its seed", async () => {
  const key = await Ed25519PrivateKey.fromPkcs8Pem(PY_PRIVATE_PEM);
  const seedHex = RFC8032[0].seed;
  const seedB64 = btoa(String.fromCharCode(...fromHex(seedHex)));
  const shown = [Deno.inspect(key), JSON.stringify(key), String(key), Deno.inspect({ key })];
  for (const s of shown) {
    assert.ok(!s.includes(seedHex) && !s.includes(seedB64.slice(0, 20)), s);
  }
  const provider = new InProcessKeyProvider("k", key);
  assert.ok(!JSON.stringify(provider).includes(seedB64.slice(0, 20)));
});

Deno.test("keys: in-process provider signs verifiably; generate gives distinct keys", async () => {
  const a = await InProcessKeyProvider.generate("a");
  const b = await InProcessKeyProvider.generate("b");
  assert.notEqual(a.publicKeyPem, b.publicKeyPem);
  const msg = new TextEncoder().encode("body");
  const sig = await a.sign(msg);
  assert.equal(await Ed25519PublicKey.fromPem(a.publicKeyPem).verify(sig, msg), true);
  assert.equal(await Ed25519PublicKey.fromPem(b.publicKeyPem).verify(sig, msg), false);
  const again = await InProcessKeyProvider.fromPkcs8Pem("a", a.privateKey.toPkcs8Pem());
  assert.equal(again.publicKeyPem, a.publicKeyPem);
  assert.throws(() => new InProcessKeyProvider("", a.privateKey), TypeError);
});

Deno.test("keys: external signer fails closed on every kind of fault", async () => {
  const hsm = await Ed25519PrivateKey.generate();
  const other = await Ed25519PrivateKey.generate();
  const msg = new TextEncoder().encode("canonical body");
  const make = (sign: (m: Uint8Array) => Promise<Uint8Array>) =>
    externalKeyProvider({ keyId: "kms-1", publicKeyPem: hsm.publicKey.toPem(), sign });

  const good = make((m) => hsm.sign(m));
  assert.equal(await hsm.publicKey.verify(await good.sign(msg), msg), true);

  const faults: [string, (m: Uint8Array) => Promise<Uint8Array>][] = [
    ["throws", () => Promise.reject(new Error("HSM offline"))],
    ["wrong key", (m) => other.sign(m)],
    ["flipped bit", async (m) => {
      const s = await hsm.sign(m);
      s[3] ^= 1;
      return s;
    }],
    ["signs other bytes", (m) => hsm.sign(concatBytes(m, new Uint8Array([1])))],
    ["short", async (m) => (await hsm.sign(m)).subarray(0, 32)],
    ["not bytes", () => Promise.resolve("sig" as unknown as Uint8Array)],
    ["zeros", () => Promise.resolve(new Uint8Array(64))],
  ];
  for (const [name, sign] of faults) {
    await assert.rejects(make(sign).sign(msg), SignerError, name);
  }
  assert.throws(
    () => externalKeyProvider({ keyId: "x", publicKeyPem: "junk", sign: (m) => hsm.sign(m) }),
    TypeError,
  );
});

Deno.test("keys: external signer cannot change the signature after it was checked", async () => {
  const hsm = await Ed25519PrivateKey.generate();
  let last: Uint8Array | undefined;
  const provider = externalKeyProvider({
    keyId: "kms",
    publicKeyPem: hsm.publicKey.toPem(),
    sign: async (m) => (last = await hsm.sign(m)),
  });
  const msg = new Uint8Array([1, 2, 3]);
  const sig = await provider.sign(msg);
  last![0] ^= 0xff; // the signer mutates its buffer afterwards
  assert.equal(await hsm.publicKey.verify(sig, msg), true);
});

Deno.test("signature base64: agrees with bytes.ts and rejects every non-canonical form", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (sig) => {
      const b64 = encodeSignatureBase64(sig);
      assert.equal(b64, toBase64(sig));
      assert.deepEqual(decodeSignatureBase64(b64), sig);
      assert.deepEqual(fromBase64(b64), sig);
    }),
    { numRuns: 300 },
  );
  const good = encodeSignatureBase64(new Uint8Array(64).fill(0xab));
  assert.ok(good.endsWith("qw=="));
  const bad = [
    good.slice(0, 87),
    good + "=",
    good.replace("qw==", "qx=="), // non-zero padding bits
    good.replace("qw==", "q==="),
    good.replace(/^q/, "-"), // URL-safe alphabet
    good.replace(/^q/, "_"),
    " " + good.slice(1),
    good.slice(0, 40) + "\n" + good.slice(41),
    good.replace(/^q/, "é"),
    good.slice(0, 86) + "AA", // no padding (66 bytes)
  ];
  for (const b of bad) {
    assert.equal(decodeSignatureBase64(b), undefined, JSON.stringify(b));
    // bytes.ts agrees: not canonical base64, or not 64 bytes.
    let decoded: Uint8Array | undefined;
    try {
      decoded = fromBase64(b);
    } catch {
      decoded = undefined;
    }
    assert.ok(decoded === undefined || decoded.length !== 64, JSON.stringify(b));
  }
  assert.throws(() => encodeSignatureBase64(new Uint8Array(63)), TypeError);
});
