/**
 * A full disk is an answer, not a 500: appends get 503 with `Retry-After`
 * and `reason: "storage-full"`, the access-log line names the cause,
 * `/readyz` says not ready while appends fail, and the server recovers by
 * itself when space returns (a probe write, or an append that succeeds),
 * with every acknowledged entry still there and the log verifying.
 *
 * The disk fills through fault injection below the KV store: Deno KV's
 * atomic commit throws exactly what it throws on a full tmpfs
 * (`TypeError: database or disk is full`, observed with
 * `mount -t tmpfs -o size=3m`); the store, the ledger and the server above
 * it are the real ones. `benchmarks/soak.ts` fills a real tmpfs when run
 * as root.
 */
import { KvStore } from "../../ledger/kv_store.ts";
import { isStorageFull } from "../../ledger/errors.ts";
import { StorageHealth } from "../../server/storage_health.ts";
import { assert, assertEquals } from "./_assert.ts";
import { auth, harness, jsonAuth, post, signedEnvelope } from "./_helpers.ts";

/** A Deno.Kv whose atomic commits fail as a full disk makes them fail, while `full.on`. */
function fillableKv(kv: Deno.Kv, full: { on: boolean }): Deno.Kv {
  return new Proxy(kv, {
    get(t, p) {
      if (p === "atomic") return () => fillableOp(t.atomic(), full);
      const v = Reflect.get(t, p, t);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}

function fillableOp(op: Deno.AtomicOperation, full: { on: boolean }): Deno.AtomicOperation {
  const proxy: Deno.AtomicOperation = new Proxy(op, {
    get(o, p) {
      if (p === "commit") {
        return () =>
          full.on ? Promise.reject(new TypeError("database or disk is full")) : o.commit();
      }
      const v = Reflect.get(o, p, o);
      return typeof v === "function"
        ? (...a: unknown[]) => {
          const r = v.apply(o, a);
          return r === o ? proxy : r;
        }
        : v;
    },
  });
  return proxy;
}

Deno.test("isStorageFull: SQLite's and the system's full-disk messages, through causes", () => {
  assert(isStorageFull(new TypeError("database or disk is full")));
  assert(
    isStorageFull(
      new Error("write failed", { cause: new Error("No space left on device (os error 28)") }),
    ),
  );
  assert(!isStorageFull(new Error("database is locked")));
});

Deno.test("full disk: 503 + Retry-After, the cause logged, not ready, then recovery without a restart", async () => {
  const full = { on: false };
  const lines: string[] = [];
  // The probe writes into a directory of its own, absent while the disk is "full".
  const tmp = await Deno.makeTempDir({ prefix: "regledger-probe-" });
  const probeDir = `${tmp}/probe`;
  await Deno.mkdir(probeDir);
  let health: StorageHealth | undefined;
  const h = await harness({
    store: async (dir) =>
      new KvStore(fillableKv((await KvStore.open(`${dir}/ledger.kv`)).kv, full)),
    wrapLog: (log) => {
      health = new StorageHealth({ dir: probeDir, probeMs: 20, status: (l) => lines.push(l) });
      return health.wrap(log);
    },
    notReady: () => health!.notReady(),
  });
  try {
    const acked: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await post(
        h.app,
        "/v1/envelopes",
        JSON.stringify(await signedEnvelope(i)),
        jsonAuth("ledger:append"),
      );
      assertEquals(r.status, 201);
      acked.push((await r.json()).index);
    }
    const ready = async () => (await h.app.request("/readyz")).status;
    assertEquals(await ready(), 200);

    full.on = true;
    // The probe cannot write either while the disk is full.
    await Deno.remove(probeDir);
    const refused = await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(await signedEnvelope(3)),
      jsonAuth("ledger:append"),
    );
    const body = await refused.json();
    assertEquals(refused.status, 503, JSON.stringify(body));
    assertEquals(body.reason, "storage-full");
    assert(/^[1-9][0-9]*$/.test(refused.headers.get("retry-after") ?? ""));
    const logLine = JSON.parse(h.accessLog.at(-1)!);
    assertEquals(logLine.status, 503);
    assert(String(logLine.fault).includes("database or disk is full"), h.accessLog.at(-1));
    assertEquals(h.bugs, []);
    assertEquals(await ready(), 503);
    const why = await (await h.app.request("/readyz")).json();
    assert(/disk is full/.test(why.error), why.error);
    // Reads still work.
    const got = await h.app.request(`/v1/log/entries/${acked[0]}`, {
      headers: auth("ledger:read"),
    });
    assertEquals(got.status, 200);
    await got.body?.cancel();

    // Space returns: the probe notices without any append, and appends work again.
    full.on = false;
    await Deno.mkdir(probeDir);
    for (let i = 0; i < 500 && (await ready()) !== 200; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals(await ready(), 200);
    assert(lines.some((l) => /space is back/.test(l)), lines.join("\n"));
    const again = await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(await signedEnvelope(3)),
      jsonAuth("ledger:append"),
    );
    assertEquals(again.status, 201);
    await again.body?.cancel();
    // Nothing acknowledged was lost; the log verifies.
    for (const i of acked) assert((await h.ledger.get(i)) !== null);
    assertEquals((await h.ledger.head()).size, 4);
    const v = await h.ledger.verify();
    assert(v.ok, JSON.stringify(v));
  } finally {
    health?.close();
    await Deno.remove(tmp, { recursive: true });
    await h.close();
  }
});
