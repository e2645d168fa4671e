/**
 * `regledger ledger list`: filters by issuer, primitive and issue time,
 * cursor paging that visits every entry once, JSON and table output, and the
 * same pages from a local data directory and from a real loopback server
 * holding the same entries; bad use is exit 2 naming the option.
 */
import assert from "node:assert/strict";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { runAudit, signAuditRun } from "../../core/audit/index.ts";
import { DEFAULT_CONFIG, parseApiKeys } from "../../server/config.ts";
import { startServer } from "../../server/serve.ts";
import { main } from "../../cli/main.ts";
import { listQuery } from "../../cli/commands/ledger/list.ts";
import { captureIO, runCli } from "./_capture.ts";

const TOKEN = "ledger-list-test-token";
const DATA = new URL("../../examples/data/", import.meta.url);

/** Five envelopes: [issuer, primitive, issued_at], appended in this (non-time) order. */
const ROWS: [string, "fairness" | "drift" | "disagreement", string][] = [
  ["Acme Bank", "fairness", "2026-05-10T00:00:00Z"],
  ["Acme Bank", "drift", "2026-02-10T08:00:00+02:00"],
  ["Beta Health", "fairness", "2026-03-10T00:00:00.5Z"],
  ["Acme Bank", "disagreement", "2026-04-10T00:00:00Z"],
  ["Acme Bank", "fairness", "2026-01-10T00:00:00Z"],
];

interface Page {
  entries: { index: number; issuer: string; primitive: string; issued_at: string }[];
  next_cursor: string | null;
}

async function list(...args: string[]): Promise<Page> {
  const r = await runCli("ledger", "list", ...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** A local log and a loopback server holding the same five entries. */
async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "regledger-list-" });
  const key = await InProcessKeyProvider.generate("list-1");
  await Deno.writeTextFile(
    `${dir}/trust.json`,
    JSON.stringify({ keys: { "list-1": key.publicKeyPem } }),
  );
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir: `${dir}/server`,
    trustedKeys: `${dir}/trust.json`,
    config: { ...DEFAULT_CONFIG, apiKeys: parseApiKeys(`${TOKEN}:admin`), verifyWorkers: 0 },
    signals: false,
    status: () => {},
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  for (const [i, [issuer, primitive, issuedAt]] of ROWS.entries()) {
    const input = JSON.parse(await Deno.readTextFile(new URL(`${primitive}.json`, DATA)));
    const env = await signAuditRun(runAudit(primitive, input), key, { issuer, issuedAt });
    const file = `${dir}/env${i}.json`;
    await Deno.writeTextFile(file, JSON.stringify(env));
    for (const where of [["--data", `${dir}/local`], ["--server", url, "--token", TOKEN]]) {
      const r = await runCli("ledger", "append", ...where, "-i", file);
      assert.equal(r.code, 0, r.stderr);
    }
  }
  return {
    local: ["--data", `${dir}/local`],
    remote: ["--server", url, "--token", TOKEN],
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const summary = (p: Page) => p.entries.map((e) => [e.index, e.issuer, e.primitive]);

Deno.test({
  name: "ledger list: filters and paging, the same locally and from a server",
  sanitizeResources: false,
  fn: async () => {
    await using f = await fixture();
    for (const where of [f.local, f.remote]) {
      const all = await list(...where);
      // (issued_at, index) order, whatever the offset and precision the issuer wrote.
      assert.deepEqual(summary(all), [
        [4, "Acme Bank", "fairness"],
        [1, "Acme Bank", "drift"],
        [2, "Beta Health", "fairness"],
        [3, "Acme Bank", "disagreement"],
        [0, "Acme Bank", "fairness"],
      ]);
      assert.equal(all.next_cursor, null);
      assert.deepEqual(Object.keys(all.entries[0]).sort(), [
        "envelope_sha256",
        "index",
        "issued_at",
        "issuer",
        "key_id",
        "leaf_hash",
        "primitive",
        "regulations",
        "summary",
      ]);
      const acme = await list(...where, "--issuer", "Acme Bank", "--primitive", "fairness");
      assert.deepEqual(acme.entries.map((e) => e.index), [4, 0]);
      // --from inclusive, --to exclusive, compared as instants.
      const window = await list(
        ...where,
        "--from",
        "2026-02-10T06:00:00Z",
        "--to",
        "2026-04-10T02:00:00+02:00",
      );
      assert.deepEqual(window.entries.map((e) => e.index), [1, 2]);
      const byDate = await list(...where, "--from", "2026-04-10");
      assert.deepEqual(byDate.entries.map((e) => e.index), [3, 0]);
      assert.deepEqual((await list(...where, "--issuer", "Nobody")).entries, []);

      // Paging: each entry once, in order, and the last page says so.
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Page = await list(
          ...where,
          "--limit",
          "2",
          ...(cursor === null ? [] : ["--cursor", cursor]),
        );
        assert.ok(page.entries.length <= 2);
        seen.push(...page.entries.map((e) => e.index));
        cursor = page.next_cursor;
        pages++;
      } while (cursor !== null);
      assert.deepEqual(seen, [4, 1, 2, 3, 0]);
      assert.equal(pages, 3);
    }
    // Byte-identical JSON from both.
    const a = await runCli("ledger", "list", ...f.local, "--limit", "3");
    const b = await runCli("ledger", "list", ...f.remote, "--limit", "3");
    assert.equal(a.stdout, b.stdout);
  },
});

Deno.test({
  name: "ledger list: a table on a terminal or with --format table",
  sanitizeResources: false,
  fn: async () => {
    await using f = await fixture();
    const io = captureIO();
    io.stdoutIsTerminal = true;
    assert.equal(await main(["ledger", "list", ...f.local, "--limit", "2"], io), 0, io.err);
    const lines = io.out.trimEnd().split("\n");
    assert.match(lines[0], /^INDEX +ISSUED_AT +ISSUER +PRIMITIVE +KEY_ID$/);
    assert.match(lines[1], /^4 +2026-01-10T00:00:00Z +Acme Bank +fairness +list-1$/);
    assert.match(lines[2], /^1 +2026-02-10T08:00:00\+02:00 +Acme Bank +drift +list-1$/);
    const next = lines[3].match(/^next page: --cursor (\S+)$/);
    assert.ok(next, lines[3]);
    const rest = await list(...f.local, "--cursor", next[1]);
    assert.deepEqual(rest.entries.map((e) => e.index), [2, 3, 0]);
    const t = await runCli(
      "ledger",
      "list",
      ...f.remote,
      "--issuer",
      "Beta Health",
      "--format",
      "table",
    );
    assert.equal(t.code, 0, t.stderr);
    assert.equal(t.stdout.trimEnd().split("\n").length, 2, "header and one row, no next page");
    const none = await runCli("ledger", "list", ...f.remote, "--issuer", "x", "--format", "table");
    assert.equal(none.stdout, "no entries\n");
    // A terminal that asks for JSON gets JSON.
    const io2 = captureIO();
    io2.stdoutIsTerminal = true;
    await main(["ledger", "list", ...f.local, "--format", "json"], io2);
    assert.equal((JSON.parse(io2.out) as Page).entries.length, 5);
  },
});

Deno.test({
  name: "ledger list: bad use is exit 2 naming the option",
  sanitizeResources: false,
  fn: async () => {
    await using f = await fixture();
    const cases: [string[], RegExp][] = [
      [[...f.local, "--limit", "0"], /--limit must be between 1 and 1000/],
      [[...f.local, "--limit", "1001"], /--limit must be between 1 and 1000/],
      [[...f.local, "--limit", "x"], /--limit must be a non-negative integer/],
      [[...f.local, "--breached", "--not-breached"], /exclude each other/],
      [[...f.local, "--format", "xml"], /--format must be json or table/],
      [[...f.local, "--from", "2026-13-01"], /from/],
      [[...f.remote, "--from", "yesterday"], /from/],
      [[...f.local, "--cursor", "bm9wZQ=="], /cursor/],
      [[...f.remote, "--cursor", "bm9wZQ=="], /cursor/],
      [["--data", "/nonexistent/regledger"], /no ledger at/],
      [[...f.local, "--index", "1"], /--index does not apply to 'ledger list'/],
    ];
    for (const [args, pattern] of cases) {
      const r = await runCli("ledger", "list", ...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}`);
      assert.match(r.stderr, pattern, args.join(" "));
      assert.equal(r.stdout, "");
    }
    const r = await runCli("ledger", "get", ...f.local, "--index", "0", "--breached");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--breached does not apply to 'ledger get'/);
    const help = await runCli("ledger", "list", "--help");
    assert.match(help.stdout, /--cursor C/);
  },
});

Deno.test("ledger list: --breached/--not-breached reach the query, locally and in the request", async () => {
  assert.equal((listQuery({}, new Set(["breached"])) as { breached?: boolean }).breached, true);
  assert.equal(
    (listQuery({}, new Set(["not-breached"])) as { breached?: boolean }).breached,
    false,
  );
  assert.equal("breached" in listQuery({}, new Set()), false);
  // What the client asks a server for (a stub that records the request).
  const asked: URL[] = [];
  const stub = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    asked.push(new URL(req.url));
    return Response.json({ entries: [], next_cursor: null });
  });
  try {
    const url = `http://127.0.0.1:${stub.addr.port}`;
    for (const flag of ["--breached", "--not-breached"]) {
      const r = await runCli("ledger", "list", "--server", url, flag, "--primitive", "drift");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { entries: [], next_cursor: null });
    }
  } finally {
    await stub.shutdown();
  }
  assert.deepEqual(asked.map((u) => [u.pathname, u.searchParams.get("breached")]), [
    ["/v1/log/entries", "true"],
    ["/v1/log/entries", "false"],
  ]);
  assert.equal(asked[0].searchParams.get("primitive"), "drift");
});
