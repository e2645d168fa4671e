/**
 * The one RFC 3339 rule (core/rfc3339.ts) and two of its users, the schema's
 * `date-time` format (core/validate.ts) and the envelope builder
 * (core/envelope_build.ts), over the shared table: every user accepts exactly
 * the valid texts. The index keys and the HTTP parameters run the same table
 * in tests/ledger/time_key_test.ts and tests/server/time_param_test.ts.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { dateTimeProblem, formatDateTime, isDateTime, parseDateTime } from "../../core/rfc3339.ts";
import { check } from "../../core/validate.ts";
import { buildEnvelope } from "../../core/envelope.ts";
import { InputValidationError } from "../../core/errors.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import type { Envelope } from "../../core/envelope_types.ts";
import { INVALID, ORDERED, VALID } from "./_rfc3339_cases.ts";

Deno.test("rfc3339: the table's valid texts parse, its invalid ones name a rule", () => {
  for (const [text, why] of VALID) {
    assert.ok(isDateTime(text), `${why}: ${text}`);
    assert.equal(dateTimeProblem(text), undefined, why);
    assert.equal(parseDateTime(text).text, text);
  }
  for (const [text, why] of INVALID) {
    assert.ok(!isDateTime(text), `${why}: ${JSON.stringify(text)}`);
    const problem = dateTimeProblem(text);
    assert.ok(problem !== undefined && problem.length > 0, why);
    assert.ok(!problem.includes(text) || text === "", `the message quotes no value (${why})`);
    assert.throws(() => parseDateTime(text), RangeError, why);
  }
});

Deno.test("rfc3339: known UTC answers (offsets, carries across days and years, leap second)", () => {
  const utc = (t: string) => {
    const u = parseDateTime(t).utc;
    return [u.year, u.month, u.day, u.hour, u.minute, u.second, u.fraction];
  };
  assert.deepEqual(utc("2026-01-01T01:30:00.250+02:00"), [2025, 12, 31, 23, 30, 0, "25"]);
  assert.deepEqual(utc("2024-02-28T20:00:00-05:00"), [2024, 2, 29, 1, 0, 0, ""]);
  assert.deepEqual(utc("2025-02-28T20:00:00-05:00"), [2025, 3, 1, 1, 0, 0, ""]);
  assert.deepEqual(utc("1990-12-31T15:59:60-08:00"), [1990, 12, 31, 23, 59, 60, ""]);
  assert.deepEqual(utc("2026-06-01T00:00:00.000-00:00"), [2026, 6, 1, 0, 0, 0, ""]);
  assert.equal(parseDateTime("2026-01-01T00:00:00-05:30").offsetMinutes, -330);
  assert.equal(parseDateTime("2026-01-01T00:00:00-00:00").offsetMinutes, 0);
  assert.equal(dateTimeProblem("2026-02-30T00:00:00Z"), "day must be 01-28 in 2026-02");
});

Deno.test("rfc3339: UTC conversion agrees with Date for millisecond times (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: new Date(0).setUTCFullYear(0, 0, 2), max: Date.UTC(9999, 11, 30) }),
      fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
      (ms, offset) => {
        // Write the instant `ms` in local time at `offset`, then parse it back.
        const local = new Date(ms + offset * 60_000);
        if (local.getUTCFullYear() < 0 || local.getUTCFullYear() > 9999) return;
        const sign = offset < 0 ? "-" : "+";
        const a = Math.abs(offset);
        const zone = `${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${
          String(a % 60).padStart(2, "0")
        }`;
        const text = local.toISOString().slice(0, 23) + zone;
        const u = parseDateTime(text).utc;
        const back = new Date(0);
        back.setUTCFullYear(u.year, u.month - 1, u.day);
        back.setUTCHours(u.hour, u.minute, u.second, Number(u.fraction.padEnd(3, "0")));
        assert.equal(back.getTime(), ms, text);
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("rfc3339: formatDateTime writes Dates the rule accepts, and refuses the rest", () => {
  const d = new Date(Date.UTC(2026, 1, 28, 23, 59, 59, 999));
  assert.equal(formatDateTime(d), "2026-02-28T23:59:59.999Z");
  assert.ok(isDateTime(formatDateTime(new Date())));
  assert.throws(() => formatDateTime(new Date(NaN)), RangeError);
  assert.throws(() => formatDateTime(new Date(Date.UTC(10000, 0, 1))), RangeError);
  assert.throws(() => formatDateTime(new Date(Date.UTC(-1, 0, 1))), RangeError);
});

let signer: InProcessKeyProvider | undefined;
function build(issuedAt: string | Date): Promise<Envelope> {
  return (async () => {
    signer ??= await InProcessKeyProvider.generate("rfc3339-test");
    return buildEnvelope({
      primitive: "drift",
      backend: "plaintext",
      parameterSet: { backend: "plaintext" },
      regulations: ["EU_AI_ACT_ART15"],
      result: { cvm: 0.25 },
      inputs: { ref: [1, 2] },
      depthBudget: { declared: 1, consumed: 1 },
      issuer: "acme",
      issuedAt,
    }, signer);
  })();
}

Deno.test("rfc3339: the schema's date-time format accepts exactly the table's valid texts", async () => {
  const base = await build("2026-04-01T12:00:00Z");
  assert.ok(check("envelope", base).ok);
  for (const [text, why] of VALID) {
    const r = check("envelope", { ...base, issued_at: text });
    assert.ok(r.ok, `${why}: ${text} ${r.ok ? "" : JSON.stringify(r.errors)}`);
    assert.ok(check("leaf", leafWith(text)).ok, `leaf ${why}`);
  }
  for (const [text, why] of INVALID) {
    const r = check("envelope", { ...base, issued_at: text });
    assert.ok(!r.ok, `${why}: ${JSON.stringify(text)}`);
    assert.equal(r.errors[0].pointer, "/issued_at", why);
    assert.equal(r.errors[0].rule, "format", why);
    assert.match(r.errors[0].message, /RFC 3339 date-time.*\(.+\)/, why);
    assert.ok(!check("leaf", leafWith(text)).ok, `leaf ${why}`);
  }
});

function leafWith(issuedAt: string): Record<string, unknown> {
  return {
    v: "regledger.leaf.v1",
    index: 0,
    prev: "A".repeat(43) + "=",
    envelope_sha256: "Q".repeat(43) + "=",
    issuer: "acme",
    key_id: "k1",
    primitive: "drift",
    issued_at: issuedAt,
  };
}

Deno.test("rfc3339: buildEnvelope signs exactly the table's valid texts, refuses the rest", async () => {
  for (const [text, why] of VALID) {
    const env = await build(text);
    assert.equal(env.issued_at, text, why);
    assert.ok(check("envelope", env).ok, why);
  }
  for (const [text, why] of INVALID) {
    await assert.rejects(
      () => build(text),
      (e: unknown) =>
        e instanceof InputValidationError && e.pointer === "/issued_at" && e.rule === "rfc3339",
      why,
    );
  }
  // A Date is written in UTC with milliseconds; an invalid or out-of-range Date is refused.
  const env = await build(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)));
  assert.equal(env.issued_at, "2026-01-02T03:04:05.006Z");
  for (const bad of [new Date(NaN), new Date(Date.UTC(10000, 0, 1))]) {
    await assert.rejects(() => build(bad), InputValidationError);
  }
});

Deno.test("rfc3339: the ordered table is valid throughout", () => {
  for (const group of ORDERED) for (const t of group) assert.ok(isDateTime(t), t);
});
