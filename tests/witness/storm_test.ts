/**
 * A SIGKILL storm against a real `regledger witness serve` process: while
 * clients submit checkpoints of split views (for each of four logs, two
 * branches that share a prefix of 4, 12, 20 or 28 leaves and are signed
 * by the same log key), the
 * witness process is killed with SIGKILL again and again and restarted on
 * the same data directory. Every cosignature the clients received is
 * checked afterwards: for each log, no two cosigned checkpoints are
 * inconsistent (all sizes past the fork point are on one branch), each
 * matches its branch's root, and the witness's final state has not rolled
 * back below any size it cosigned.
 */
import assert from "node:assert/strict";
import { bytesEqual } from "../../core/bytes.ts";
import { Ed25519NoteSigner, openNote } from "../../ledger/note.ts";
import { parseCheckpointText } from "../../ledger/checkpoint.ts";
import {
  formatAddCheckpointRequest,
  originHash,
  parseConflictBody,
} from "../../ledger/witness/add_checkpoint.ts";
import { parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { TestLog } from "./_log.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const LOGS = 4;
/** Log i's branches share its first forkAt(i) leaves: the forks are crossed all through the storm. */
const forkAt = (i: number) => 4 + 8 * i;
const MAX = 100; // each branch's size
const KILLS = 12;

interface Witness {
  child: Deno.ChildProcess;
  url: string;
  vkeys: string[];
}

async function start(dir: string, logsFile: string): Promise<Witness> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=127.0.0.1",
      "--allow-sys",
      "cli/main.ts",
      "witness",
      "serve",
      "--name",
      "storm.example/witness",
      "--data",
      dir,
      "--port",
      "0",
      "--logs",
      logsFile,
      "--no-ml-dsa",
      "--rate-limit",
      "0",
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = async (s: ReadableStream<Uint8Array>, until: (l: string) => boolean) => {
    const got: string[] = [];
    const reader = s.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`witness exited before starting: ${got.join("\n")}${buf}`);
      buf += value;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        got.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (until(got[got.length - 1])) {
          // Keep draining so the child never blocks on a full pipe.
          void (async () => {
            try {
              while (!(await reader.read()).done) { /* drain */ }
            } catch { /* killed */ }
          })();
          return got;
        }
      }
    }
  };
  const [err, out] = await Promise.all([
    lines(child.stderr, (l) => l.includes(" listening on ")),
    lines(child.stdout, (l) => l.startsWith("storm.example/witness+")),
  ]);
  const url = /listening on (\S+)/.exec(err[err.length - 1])![1];
  return { child, url, vkeys: out };
}

interface Cosigned {
  origin: string;
  branch: "a" | "b";
  size: number;
  root: Uint8Array;
}

Deno.test("SIGKILL storm: the witness never cosigns both branches of a split view", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-witness-storm-" });
  try {
    // Three logs, each with two branches under one key.
    const logs: { origin: string; fork: number; a: TestLog; b: TestLog }[] = [];
    let policy = "";
    for (let i = 0; i < LOGS; i++) {
      const origin = `storm.example/log${i}`;
      const key = await Ed25519NoteSigner.fromSeed(origin, new Uint8Array(32).fill(40 + i));
      const fork = forkAt(i);
      const a = await new TestLog([key], origin).grow(fork);
      const b = new TestLog([key], origin);
      await b.grow(fork);
      await a.grow(MAX - fork, "a");
      await b.grow(MAX - fork, "b");
      logs.push({ origin, fork, a, b });
      policy += `log ${key.verifierKey()}\n`;
    }
    const logsFile = `${dir}/logs.policy`;
    await Deno.writeTextFile(logsFile, policy + "quorum none\n");
    const data = `${dir}/data`;

    let current: Witness | undefined = await start(data, logsFile);
    const vkeys = current.vkeys;
    const witnessVerifier = parseNoteVerifierKey(vkeys[0]).verifier;
    let stopped = false;
    const cosigned: Cosigned[] = [];
    const counts = { ok: 0, conflict: 0, badProof: 0, netErrors: 0 };

    const client = async (origin: string, branch: "a" | "b", log: TestLog, seed: number) => {
      let rnd = seed;
      const next = () => (rnd = (rnd * 1103515245 + 12345) & 0x7fffffff);
      let witnessSize = 0;
      while (!stopped) {
        const w = current;
        if (w === undefined) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const target = Math.min(MAX, witnessSize + 1 + (next() % 3));
        if (witnessSize >= MAX) {
          await new Promise((r) => setTimeout(r, 20));
          witnessSize = 0; // ask again (409 tells the size)
          continue;
        }
        const cp = await log.checkpoint(target);
        const body = formatAddCheckpointRequest(
          witnessSize,
          await log.proof(witnessSize, target),
          cp,
        );
        let res: Response;
        let text: string;
        try {
          res = await fetch(`${w.url}/add-checkpoint`, { method: "POST", body });
          text = await res.text();
        } catch {
          counts.netErrors++;
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        if (res.status === 200) {
          const opened = await openNote(cp + text, [witnessVerifier]);
          assert.equal(opened.sigs.length, 1, "one cosignature by the witness key");
          const c = parseCheckpointText(opened.text);
          cosigned.push({ origin, branch, size: c.size, root: c.root });
          counts.ok++;
          witnessSize = target;
        } else if (res.status === 409) {
          counts.conflict++;
          witnessSize = parseConflictBody(text);
        } else if (res.status === 422) {
          counts.badProof++;
          witnessSize = 0; // our branch lost (or we were behind): learn the size again
          await new Promise((r) => setTimeout(r, 2));
        } else {
          throw new Error(`unexpected ${res.status}: ${text}`);
        }
      }
    };

    const clients = logs.flatMap((l, i) => [
      client(l.origin, "a", l.a, 1 + i * 2),
      client(l.origin, "b", l.b, 2 + i * 2),
    ]);
    let kills = 0;
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 80 + ((k * 37) % 200)));
      const w = current!;
      current = undefined;
      w.child.kill("SIGKILL");
      await w.child.status;
      kills++;
      const again = await start(data, logsFile);
      assert.deepEqual(again.vkeys, vkeys, "the same key after every restart");
      current = again;
    }
    // Let the clients run on until every log's fork was crossed (so that the
    // check below is never vacuous), then stop them.
    for (let i = 0; i < 600; i++) {
      if (logs.every((l) => cosigned.some((c) => c.origin === l.origin && c.size > l.fork))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    stopped = true;
    await Promise.all(clients);

    // The final state, read from the (live) witness's monitoring endpoint.
    const last: Witness = current!;
    const finals = new Map<string, { size: number; root: Uint8Array }>();
    for (const l of logs) {
      const res: Response = await fetch(`${last.url}/${originHash(l.origin)}/checkpoint`);
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const opened = await openNote(text, [witnessVerifier]);
      finals.set(l.origin, parseCheckpointText(opened.text));
    }
    last.child.kill("SIGTERM");
    assert.ok((await last.child.status).success, "clean shutdown on SIGTERM");

    assert.equal(kills, KILLS);
    assert.ok(counts.ok >= LOGS, `cosignatures were issued: ${JSON.stringify(counts)}`);
    assert.ok(counts.badProof > 0, `the losing branches were refused: ${JSON.stringify(counts)}`);
    for (const l of logs) {
      const mine = cosigned.filter((c) => c.origin === l.origin);
      for (const c of mine) {
        const branch = c.branch === "a" ? l.a : l.b;
        assert.ok(bytesEqual(c.root, await branch.root(c.size)), "cosigned its branch's root");
      }
      const past = new Set(mine.filter((c) => c.size > l.fork).map((c) => c.branch));
      assert.equal(past.size, 1, `${l.origin}: cosigned both branches past the fork, or none`);
      const final = finals.get(l.origin)!;
      for (const c of mine) {
        assert.ok(c.size <= final.size, `${l.origin}: state rolled back below ${c.size}`);
      }
      if (past.size === 1) {
        const winner = [...past][0] === "a" ? l.a : l.b;
        assert.ok(bytesEqual(final.root, await winner.root(final.size)), "final state on winner");
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
