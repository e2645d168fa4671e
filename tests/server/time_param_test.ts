/**
 * The HTTP `from`/`to` parameters of `GET /v1/log/entries` follow the one
 * RFC 3339 rule (core/rfc3339.ts) over the shared table, through an
 * in-process app on a real ledger; entries written with any precision,
 * offset or leap second come back in time order and filter by instant.
 */
import assert from "node:assert/strict";
import { auth, harness, jsonAuth, post, signedEnvelope } from "./_helpers.ts";
import { INVALID, ORDERED, VALID } from "../core/_rfc3339_cases.ts";

Deno.test("GET /v1/log/entries: from/to accept exactly the shared table's valid date-times", async () => {
  const h = await harness();
  try {
    const get = (q: string) =>
      h.app.request(`/v1/log/entries?${q}`, { headers: auth("ledger:read") });
    for (const [text, why] of VALID) {
      for (const p of ["from", "to"]) {
        const r = await get(`${p}=${encodeURIComponent(text)}`);
        const body = await r.json();
        assert.equal(r.status, 200, `${p} ${why}: ${text} ${JSON.stringify(body)}`);
        assert.deepEqual(body.entries, []);
      }
    }
    for (const [text, why] of INVALID) {
      for (const p of ["from", "to"]) {
        const r = await get(`${p}=${encodeURIComponent(text)}`);
        const body = await r.json();
        assert.equal(r.status, 400, `${p} ${why}: ${JSON.stringify(text)}`);
        assert.equal(body.parameter, p, why);
        assert.match(body.error, new RegExp(`'${p}' must be an RFC 3339 date-time: .+`), why);
      }
    }
    // from after to is compared as instants, not as text or by Date.parse.
    const late = await get(
      `from=${encodeURIComponent("2016-12-31T23:59:60.5Z")}&to=${
        encodeURIComponent("2016-12-31T23:59:59.9999999991Z")
      }`,
    );
    assert.equal(late.status, 400);
    assert.equal((await late.json()).parameter, "from");
    assert.deepEqual(h.bugs, []);
  } finally {
    await h.close();
  }
});

Deno.test("GET /v1/log/entries: times of any precision, offset and leap second list in time order", async () => {
  const h = await harness();
  try {
    // One envelope per instant of the ordered table, appended in a scrambled order.
    const order = ORDERED.map((_, i) => i).sort((a, b) => ((a * 7) % 12) - ((b * 7) % 12));
    for (const [n, i] of order.entries()) {
      const group = ORDERED[i];
      const env = await signedEnvelope(n, { issuedAt: group[group.length - 1] });
      const r = await post(h.app, "/v1/envelopes", JSON.stringify(env), jsonAuth("ledger:append"));
      assert.equal(r.status, 201, await r.text());
    }
    const list = async (q: string): Promise<string[]> => {
      const r = await h.app.request(`/v1/log/entries?${q}`, { headers: auth("ledger:read") });
      assert.equal(r.status, 200);
      return (await r.json()).entries.map((e: { issued_at: string }) => e.issued_at);
    };
    const last = ORDERED.map((g) => g[g.length - 1]);
    assert.deepEqual(await list("limit=100"), last);
    // Bounds written in another form of the same instant select by instant.
    for (let k = 0; k < ORDERED.length; k++) {
      const from = encodeURIComponent(ORDERED[k][0]);
      assert.deepEqual(await list(`from=${from}`), last.slice(k), `from ${ORDERED[k][0]}`);
      assert.deepEqual(await list(`to=${from}`), last.slice(0, k), `to ${ORDERED[k][0]}`);
    }
    assert.deepEqual(h.bugs, []);
  } finally {
    await h.close();
  }
});
