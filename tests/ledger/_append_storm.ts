/**
 * Child process of the crash and concurrency tests: appends envelopes
 * `start … start+count-1` to the ledger in DIR from `workers` concurrent
 * appenders, printing one line per acknowledged append:
 * `<index> <envelope_sha256 b64> <leaf_hash b64> <existing>`.
 * A line is printed only after the append's promise resolved (its commit is
 * durable), so the parent can SIGKILL at any moment and then check that
 * every printed entry is in the log.
 *
 * usage: deno run -A tests/ledger/_append_storm.ts DIR START COUNT [WORKERS]
 *
 * @module
 */
import { openLedger } from "../../ledger/index.ts";
import { makeEnvelope } from "./_helpers.ts";

const [dir, startText, countText, workersText] = Deno.args;
const start = Number(startText);
const count = Number(countText);
const workers = Number(workersText ?? 16);
const ledger = await openLedger({ dataDir: dir });
const enc = new TextEncoder();
let next = 0;

function write(line: string): void {
  const data = enc.encode(line);
  let off = 0;
  while (off < data.length) off += Deno.stdout.writeSync(data.subarray(off));
}

await Promise.all(Array.from({ length: workers }, async () => {
  while (next < count) {
    const i = start + next++;
    const r = await ledger.append(await makeEnvelope(i));
    write(`${r.index} ${r.envelope_sha256} ${r.leaf_hash} ${r.existing}\n`);
  }
}));
await ledger.close();
write("done\n");
