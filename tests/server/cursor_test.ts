/**
 * `next_cursor` round trips through a query string in every spelling a
 * client may send: the issued form raw, percent-encoded, and a standard
 * base64 cursor (earlier servers' alphabet) whose `+` and `/` arrive raw
 * (URL decoding turns `+` into a space) or percent-encoded.
 *
 * @module
 */
import { toBase64 } from "../../core/bytes.ts";
import { utcTimeKey } from "../../ledger/time_key.ts";
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { auth, harness, jsonAuth, post, signedEnvelope } from "./_helpers.ts";

const TIMES = [
  "2026-01-05T00:00:00.000Z",
  "2026-01-06T00:00:00.000Z",
  "2026-01-07T00:00:00.000Z",
];

/**
 * A standard-base64 cursor naming the position just after every entry at
 * `time` whose text holds both `+` and `/`: the position's time key gets a
 * suffix that sorts after every key of that instant (`~` follows digits and
 * `:`), padded with JSON whitespace until the alphabet shows both characters.
 */
function standardCursorWithPlusAndSlash(time: string, index: number): string {
  const key = utcTimeKey(time)!;
  for (let pad = 0; pad < 64; pad++) {
    for (const tail of ["~", "~~~???"]) {
      const json = `[${JSON.stringify(key + tail)},${" ".repeat(pad)}${index}]`;
      const b64 = toBase64(new TextEncoder().encode(json));
      if (b64.includes("+") && b64.includes("/")) return b64;
    }
  }
  throw new Error("no standard base64 cursor with both + and / found");
}

Deno.test("GET /v1/log/entries: cursors with + and / are accepted raw and percent-encoded; issued cursors are URL-safe", async () => {
  const h = await harness();
  try {
    for (let i = 0; i < TIMES.length; i++) {
      const r = await post(
        h.app,
        "/v1/envelopes",
        JSON.stringify(await signedEnvelope(i, { issuedAt: TIMES[i] })),
        jsonAuth("ledger:append"),
      );
      assertEquals(r.status, 201);
      await r.body?.cancel();
    }
    const page = async (qs: string) => {
      const r = await h.app.request(`/v1/log/entries?${qs}`, { headers: auth("ledger:read") });
      const body = await r.json();
      assertEquals(r.status, 200, `${qs}: ${JSON.stringify(body)}`);
      return body as { entries: { index: number }[]; next_cursor: string | null };
    };
    const idx = (p: { entries: { index: number }[] }) => p.entries.map((e) => e.index);

    const first = await page("limit=1");
    assertEquals(idx(first), [0]);
    assert(first.next_cursor !== null);
    // Issued cursors need no escaping in a URL.
    assertMatch(first.next_cursor, /^[A-Za-z0-9_-]+$/);
    assertEquals(idx(await page(`limit=5&cursor=${first.next_cursor}`)), [1, 2]);
    assertEquals(
      idx(await page(`limit=5&cursor=${encodeURIComponent(first.next_cursor)}`)),
      [1, 2],
    );

    const std = standardCursorWithPlusAndSlash(TIMES[0], 0);
    assert(std.includes("+") && std.includes("/"));
    // Raw: the query parser turns each `+` into a space.
    assertEquals(idx(await page(`limit=5&cursor=${std}`)), [1, 2]);
    assertEquals(idx(await page(`limit=5&cursor=${encodeURIComponent(std)}`)), [1, 2]);
    // The same position in the URL-safe alphabet, padded or not.
    const url = std.replaceAll("+", "-").replaceAll("/", "_");
    assertEquals(idx(await page(`limit=5&cursor=${url}`)), [1, 2]);
    assertEquals(idx(await page(`limit=5&cursor=${url.replace(/=+$/, "")}`)), [1, 2]);
    // Still refused: something that is no cursor.
    const bad = await h.app.request("/v1/log/entries?cursor=%2B%2B%2B%2B", {
      headers: auth("ledger:read"),
    });
    assertEquals(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await h.close();
  }
});
