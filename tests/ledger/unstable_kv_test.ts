/**
 * A library user without `--unstable-kv`: `openLedger` on Deno KV fails with
 * an error naming the flag (and the deno.json setting), while a ledger on
 * the memory store still works. Runs a child `deno run` under a copy of
 * deno.json without `"unstable": ["kv"]`.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

Deno.test("openLedger without --unstable-kv names the flag; the memory store needs none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-nokv-" });
  try {
    const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
    delete config.unstable;
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ imports: config.imports }));
    const script = `
      import { openLedger } from "${new URL("ledger/ledger.ts", ROOT).href}";
      import { MemoryStore } from "${new URL("ledger/memory_store.ts", ROOT).href}";
      console.log("openKv:" + typeof Deno.openKv);
      try {
        await openLedger({ dataDir: ${JSON.stringify(`${dir}/data`)} });
        console.log("opened");
      } catch (e) {
        console.log(e.name + ": " + e.message);
      }
      const l = await openLedger({ store: new MemoryStore(), dataDir: ${
      JSON.stringify(`${dir}/data`)
    } });
      console.log("memory size " + await l.size());
      await l.close();`;
    await Deno.writeTextFile(`${dir}/main.ts`, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-lock", "--config", `${dir}/deno.json`, "-A", `${dir}/main.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /openKv:undefined/);
    assert.match(text, /LedgerStateError: Deno KV is not enabled: run deno with --unstable-kv/);
    assert.match(text, /"unstable": \["kv"\] to deno\.json/);
    assert.doesNotMatch(text, /^opened$/m);
    assert.match(text, /memory size 0/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
