/**
 * Crash safety: a real child process appends in a storm and prints every
 * acknowledged entry; the test SIGKILLs it at a random moment, many times.
 * After each kill, every acknowledged entry must be in the log at its index
 * with its envelope and leaf hash, and the whole log must verify.
 */
import assert from "node:assert/strict";
import { openLedger } from "../../ledger/index.ts";

const STORM = new URL("./_append_storm.ts", import.meta.url).pathname;
const ROUNDS = Number(Deno.env.get("REGLEDGER_CRASH_ROUNDS") ?? 12);

interface Ack {
  index: number;
  sha: string;
  leafHash: string;
}

/** Run a storm child and kill it `killAfterMs` after its first acknowledgement. */
async function stormAndKill(
  dir: string,
  start: number,
  count: number,
  killAfterMs: number,
): Promise<{ acks: Ack[]; finished: boolean }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", STORM, dir, String(start), String(count), "16"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const acks: Ack[] = [];
  let finished = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let buf = "";
  const dec = new TextDecoder();
  for await (const chunk of child.stdout) {
    buf += dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === "done") {
        finished = true;
        continue;
      }
      const [i, sha, lh] = line.split(" ");
      acks.push({ index: Number(i), sha, leafHash: lh });
      if (timer === undefined) {
        timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // already exited
          }
        }, killAfterMs);
      }
    }
  }
  clearTimeout(timer);
  await child.status;
  return { acks, finished };
}

Deno.test({
  name: "SIGKILL during an append storm never loses an acknowledged entry; the log verifies",
  // The test spawns and kills child processes; it owns their resources.
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "regledger-crash-" });
    try {
      const all = new Map<number, Ack>();
      let start = 0;
      let killedMidStorm = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const killAfter = 5 + Math.floor(Math.random() * 250);
        // Each round also re-appends the previous round's tail (existing entries).
        const from = Math.max(0, start - 20);
        const { acks, finished } = await stormAndKill(dir, from, 20 + 4000, killAfter);
        if (!finished) killedMidStorm++;
        start = from + 20 + 4000;
        for (const a of acks) {
          const prior = all.get(a.index);
          if (prior) assert.equal(prior.sha, a.sha, `index ${a.index} acknowledged twice`);
          all.set(a.index, a);
        }
        const ledger = await openLedger({ dataDir: dir });
        try {
          const size = await ledger.size();
          for (const a of all.values()) {
            assert(a.index < size, `acknowledged index ${a.index} beyond size ${size}`);
            const e = await ledger.get(a.index);
            assert(e, `acknowledged entry ${a.index} missing after kill in round ${round}`);
            assert.equal(e.leaf_hash, a.leafHash);
            const leaf = JSON.parse(atob(e.leaf));
            assert.equal(leaf.envelope_sha256, a.sha);
          }
          const v = await ledger.verify();
          assert.equal(v.ok, true, `round ${round}: ${v.reason}`);
        } finally {
          await ledger.close();
        }
      }
      assert(all.size > 0);
      assert(killedMidStorm >= ROUNDS / 2, `only ${killedMidStorm} rounds were killed mid-storm`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
