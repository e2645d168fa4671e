/**
 * The witness's choice of ML-DSA-44 implementation (`mlDsaEngine`,
 * `witness serve --ml-dsa-engine`): with `noble` liboqs is never loaded and
 * the cosignatures verify under both implementations; `auto` falls back to
 * noble with exactly one status line when liboqs fails to load (forced
 * here with an injected loader); `liboqs` refuses to start without it. One
 * key file serves both engines.
 */
import assert from "node:assert/strict";
import { Ed25519NoteSigner, type NoteVerifier, openNote } from "../../ledger/note.ts";
import {
  formatAddCheckpointRequest,
  verifyCosignatureResponse,
} from "../../ledger/witness/add_checkpoint.ts";
import { parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { MlDsa44NoteVerifier } from "../../ledger/witness/mldsa.ts";
import {
  createLiboqsMlDsa44Engine,
  type LiboqsMlDsa44Engine,
} from "../../ledger/witness/mldsa_liboqs.ts";
import { ConfigError } from "../../server/config.ts";
import { type RunningWitness, startWitness } from "../../server/witness/serve.ts";
import { runCli } from "../cli/_capture.ts";
import { ORIGIN, TestLog } from "./_log.ts";

const logKey = await Ed25519NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(31));

/** A liboqs loader that fails like a blocked WebAssembly module, counting calls. */
function failingLoader(): { calls: number; load: () => Promise<LiboqsMlDsa44Engine> } {
  const l = {
    calls: 0,
    load: () => {
      l.calls++;
      return Promise.reject(new Error("WebAssembly.instantiate blocked"));
    },
  };
  return l;
}

/** Cosign a fresh checkpoint; return it and the cosignature lines. */
async function cosign(w: RunningWitness, size: number): Promise<[string, string]> {
  const log = await new TestLog([logKey]).grow(size);
  const cp = await log.checkpoint();
  const res = await fetch(`${w.url}/add-checkpoint`, {
    method: "POST",
    body: formatAddCheckpointRequest(0, [], cp),
  });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  return [cp, body];
}

/** The witness's verifiers, its ML-DSA-44 one checking with `engine` when given. */
function verifiers(w: RunningWitness, engine?: LiboqsMlDsa44Engine): NoteVerifier[] {
  return w.verifierKeys.map((k) => {
    const v = parseNoteVerifierKey(k).verifier;
    if (engine && v instanceof MlDsa44NoteVerifier) {
      return new MlDsa44NoteVerifier(v.name, v.publicKey, engine);
    }
    return v;
  });
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-witness-engine-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("noble: liboqs never loaded; cosignatures verify under noble and liboqs", async () => {
  await withDir(async (dir) => {
    const loader = failingLoader();
    const status: string[] = [];
    const w = await startWitness({
      dataDir: dir,
      name: "witness.example/noble",
      logs: [logKey.verifierKey()],
      mlDsaEngine: "noble",
      loadLiboqs: loader.load,
      status: (l) => status.push(l),
    });
    const oqs = await createLiboqsMlDsa44Engine();
    try {
      assert.equal(w.mlDsaEngine, "noble");
      assert.equal(loader.calls, 0, "noble does not try liboqs");
      assert.ok(!status.some((l) => /liboqs/.test(l)), status.join("\n"));
      const [cp, body] = await cosign(w, 6);
      // The verifiers parsed from the keys use noble; a liboqs verifier agrees.
      assert.equal((await verifyCosignatureResponse(cp, body, verifiers(w))).length, 2);
      assert.equal((await verifyCosignatureResponse(cp, body, verifiers(w, oqs))).length, 2);
      const opened = await openNote(cp + body, [logKey.verifier(), ...verifiers(w, oqs)]);
      assert.equal(opened.sigs.length, 3);
    } finally {
      await w.close();
    }
    // Same key file, now cosigning with liboqs: the same verifier keys.
    const again = await startWitness({
      dataDir: dir,
      name: "witness.example/noble",
      logs: [logKey.verifierKey()],
      mlDsaEngine: "liboqs",
    });
    try {
      assert.equal(again.mlDsaEngine, "liboqs");
      assert.deepEqual(again.verifierKeys, w.verifierKeys);
    } finally {
      await again.close();
      oqs.destroy();
    }
  });
});

Deno.test("auto: a liboqs that fails to load falls back to noble with one status line", async () => {
  await withDir(async (dir) => {
    const loader = failingLoader();
    const status: string[] = [];
    const w = await startWitness({
      dataDir: dir,
      name: "witness.example/auto",
      logs: [logKey.verifierKey()],
      loadLiboqs: loader.load,
      status: (l) => status.push(l),
    });
    const oqs = await createLiboqsMlDsa44Engine();
    try {
      assert.equal(loader.calls, 1);
      assert.equal(w.mlDsaEngine, "noble");
      const fallback = status.filter((l) => /liboqs/.test(l));
      assert.deepEqual(fallback, [
        "witness: liboqs unavailable (WebAssembly.instantiate blocked); ML-DSA-44 in JavaScript",
      ]);
      assert.equal(w.verifierKeys.length, 2, "still cosigns with ML-DSA-44");
      const [cp, body] = await cosign(w, 3);
      assert.equal(body.split("\n").length - 1, 2);
      assert.equal((await verifyCosignatureResponse(cp, body, verifiers(w, oqs))).length, 2);
    } finally {
      await w.close();
      oqs.destroy();
    }
  });
});

Deno.test("liboqs: refuses to start when it does not load; auto takes it when it loads", async () => {
  await withDir(async (dir) => {
    const loader = failingLoader();
    await assert.rejects(
      startWitness({
        dataDir: dir,
        name: "witness.example/oqs",
        logs: [logKey.verifierKey()],
        mlDsaEngine: "liboqs",
        loadLiboqs: loader.load,
      }),
      (e) => e instanceof ConfigError && /liboqs does not load: WebAssembly/.test(e.message),
    );
    await assert.rejects(
      startWitness({
        dataDir: dir,
        name: "witness.example/oqs",
        logs: [logKey.verifierKey()],
        // deno-lint-ignore no-explicit-any
        mlDsaEngine: "fast" as any,
      }),
      (e) => e instanceof ConfigError && /"fast" is not one of auto, liboqs, noble/.test(e.message),
    );
    const status: string[] = [];
    const w = await startWitness({
      dataDir: dir,
      name: "witness.example/oqs",
      logs: [logKey.verifierKey()],
      status: (l) => status.push(l),
    });
    try {
      assert.equal(w.mlDsaEngine, "liboqs");
      assert.ok(!status.some((l) => /unavailable/.test(l)), status.join("\n"));
      const [cp, body] = await cosign(w, 2);
      assert.equal((await verifyCosignatureResponse(cp, body, verifiers(w))).length, 2);
    } finally {
      await w.close();
    }
    // Without ML-DSA-44 there is no engine at all.
    const ed = await startWitness({
      dataDir: `${dir}/ed`,
      name: "witness.example/oqs",
      logs: [logKey.verifierKey()],
      mlDsa: false,
      loadLiboqs: loader.load,
    });
    try {
      assert.equal(ed.mlDsaEngine, undefined);
      assert.equal(ed.verifierKeys.length, 1);
    } finally {
      await ed.close();
    }
    assert.equal(loader.calls, 1, "only the liboqs start tried to load it");
  });
});

Deno.test("witness serve --ml-dsa-engine: documented, and a bad value is exit 2", async () => {
  const help = await runCli("witness", "serve", "--help");
  assert.match(help.stdout, /--ml-dsa-engine E/);
  await withDir(async (dir) => {
    const r = await runCli(
      "witness",
      "serve",
      "--name",
      "w.example",
      "--log",
      logKey.verifierKey(),
      "--ml-dsa-engine",
      "fast",
      "--data",
      `${dir}/data`,
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--ml-dsa-engine must be auto, liboqs or noble, got 'fast'/);
    assert.equal(await Deno.stat(`${dir}/data`).then(() => true, () => false), false);
  });
});
