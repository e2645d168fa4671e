/**
 * Tests of ledger/witness/policy.ts (C2SP tlog-policy). The spec's example
 * policy (two organisations' witness groups, `group X-and-Y all ...`) is
 * used with real keys in place of its elided `<vkey>`s, and checked against
 * every subset of cosigners that matters.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { signCheckpoint } from "../../ledger/checkpoint.ts";
import { Ed25519NoteSigner, type NoteSigner } from "../../ledger/note.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { MlDsa44NoteSigner } from "../../ledger/witness/mldsa.ts";
import {
  parsePolicy,
  PolicyError,
  quorumMet,
  verifyCheckpointPolicy,
} from "../../ledger/witness/policy.ts";
import { cosignatureLines } from "../../ledger/witness/add_checkpoint.ts";
import { ORIGIN } from "./_log.ts";

const log = await Ed25519NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(11));
const logPq = MlDsa44NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(12));
const names = ["X1", "X2", "X3", "Y1", "Y2", "Y3"];
const W: Record<string, NoteSigner & { verifierKey(): string }> = {};
for (const [i, n] of names.entries()) {
  W[n] = i === 5
    ? MlDsa44NoteSigner.fromSeed(`${n.toLowerCase()}.example/w`, new Uint8Array(32).fill(50 + i), {
      clock: () => 1_700_000_001 + i,
    })
    : await Ed25519CosignatureSigner.fromSeed(
      `${n.toLowerCase()}.example/w`,
      new Uint8Array(32).fill(50 + i),
      { clock: () => 1_700_000_001 + i },
    );
}

// The spec's example, keys filled in.
const EXAMPLE = `log ${log.verifierKey()}

witness X1 ${W.X1.verifierKey()}
witness X2 ${W.X2.verifierKey()}
witness X3 ${W.X3.verifierKey()}
group X-witnesses 2 X1 X2 X3

witness Y1 ${W.Y1.verifierKey()}
witness Y2 ${W.Y2.verifierKey()}
witness Y3 ${W.Y3.verifierKey()}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`;

const CP = { origin: ORIGIN, size: 12, root: new Uint8Array(32).fill(0x5a) };

async function cosigned(by: string[], signers: NoteSigner[] = [log]): Promise<string> {
  const base = await signCheckpoint(CP, signers);
  const text = base.slice(0, base.lastIndexOf("\n\n") + 1);
  return base + await cosignatureLines(text, by.map((n) => W[n]));
}

Deno.test("spec example: parses into 1 log, 6 witnesses, 3 groups and the quorum", () => {
  const p = parsePolicy(EXAMPLE);
  assert.equal(p.logs.length, 1);
  assert.equal(p.logs[0].key.vkey, log.verifierKey());
  assert.deepEqual([...p.witnesses.keys()], names);
  assert.deepEqual(p.groups.get("X-witnesses"), {
    name: "X-witnesses",
    threshold: 2,
    members: ["X1", "X2", "X3"],
  });
  assert.equal(p.groups.get("Y-witnesses")?.threshold, 1);
  assert.equal(p.groups.get("X-and-Y")?.threshold, 2);
  assert.equal(p.quorum, "X-and-Y");
});

Deno.test("spec example: quorum needs 2 of X and 1 of Y (all subsets)", () => {
  const p = parsePolicy(EXAMPLE);
  for (let mask = 0; mask < 64; mask++) {
    const set = new Set(names.filter((_, i) => mask & (1 << i)));
    const xs = ["X1", "X2", "X3"].filter((n) => set.has(n)).length;
    const ys = ["Y1", "Y2", "Y3"].filter((n) => set.has(n)).length;
    assert.equal(quorumMet(p, p.quorum, set), xs >= 2 && ys >= 1, [...set].join(","));
  }
});

Deno.test("verify: valid with the quorum; says 'quorum' without it", async () => {
  const p = parsePolicy(EXAMPLE);
  const ok = await verifyCheckpointPolicy(await cosigned(["X1", "X3", "Y3"]), p);
  assert.equal(ok.valid, true, ok.message);
  assert.deepEqual(ok.witnesses, ["X1", "X3", "Y3"]);
  assert.deepEqual(ok.cosignedAt, { X1: 1_700_000_001, X3: 1_700_000_003, Y3: 1_700_000_006 });
  assert.deepEqual(ok.logKeys, [log.verifierKey()]);
  assert.equal(ok.checkpoint?.size, 12);
  for (const set of [[], ["X1", "X2"], ["X1", "Y1", "Y2"], ["Y1", "Y2", "Y3", "X3"]]) {
    const v = await verifyCheckpointPolicy(await cosigned(set), p);
    assert.equal(v.valid, false);
    assert.equal(v.failed, "quorum", v.message);
  }
});

Deno.test("verify: says 'log' when the log signature is missing, foreign or bad", async () => {
  const p = parsePolicy(EXAMPLE);
  const impostor = await Ed25519NoteSigner.generate(ORIGIN);
  const noLog = await verifyCheckpointPolicy(await cosigned(["X1", "X2", "Y1"], [impostor]), p);
  assert.equal(noLog.failed, "log");
  const good = await cosigned(["X1", "X2", "Y1"]);
  const logLine = good.split("\n").findIndex((l) => l.startsWith(`— ${ORIGIN} `));
  const lines = good.split("\n");
  const at = lines[logLine].length - 5;
  lines[logLine] = lines[logLine].slice(0, at) + (lines[logLine][at] === "A" ? "B" : "A") +
    lines[logLine].slice(at + 1);
  const bad = await verifyCheckpointPolicy(lines.join("\n"), p);
  assert.equal(bad.failed, "log");
  assert.match(bad.message, /does not verify/);
  const otherOrigin = await signCheckpoint({ ...CP, origin: "other.example/log" }, [log]);
  assert.equal((await verifyCheckpointPolicy(otherOrigin, p)).failed, "log");
});

Deno.test("verify: says 'witness' for a bad cosignature by a policy witness", async () => {
  const p = parsePolicy(EXAMPLE);
  const good = await cosigned(["X1", "X2", "Y1"]);
  const lines = good.split("\n");
  const i = lines.findIndex((l) => l.startsWith("— x2.example/w "));
  const at = lines[i].length - 5;
  lines[i] = lines[i].slice(0, at) + (lines[i][at] === "A" ? "B" : "A") + lines[i].slice(at + 1);
  const v = await verifyCheckpointPolicy(lines.join("\n"), p);
  assert.equal(v.failed, "witness");
  assert.match(v.message, /X2/);
});

Deno.test("verify: 'malformed' for text that is not a signed checkpoint", async () => {
  const p = parsePolicy(EXAMPLE);
  for (const bad of ["", "hello\n\n— x AAAA\n", `${ORIGIN}\n1\n\n— x AAAA\n`, "a\x01b\n\n"]) {
    assert.equal((await verifyCheckpointPolicy(bad, p)).failed, "malformed", JSON.stringify(bad));
  }
});

Deno.test("quorum none; an ML-DSA-44 log key; ML-DSA-44 witness cosignatures count", async () => {
  const none = parsePolicy(`log ${logPq.verifierKey()}\nquorum none\n`);
  const both = await cosigned([], [log, logPq]);
  const v = await verifyCheckpointPolicy(both, none);
  assert.equal(v.valid, true, v.message);
  assert.deepEqual(v.logKeys, [logPq.verifierKey()]);
  assert.equal((await verifyCheckpointPolicy(await cosigned([], [log]), none)).failed, "log");
  const pqWitness = parsePolicy(
    `log ${log.verifierKey()}\nlog ${logPq.verifierKey()}\nwitness Y3 ${W.Y3.verifierKey()}\nquorum Y3\n`,
  );
  assert.equal((await verifyCheckpointPolicy(await cosigned(["Y3"]), pqWitness)).valid, true);
  assert.equal((await verifyCheckpointPolicy(await cosigned(["Y2"]), pqWitness)).failed, "quorum");
});

Deno.test("syntax: whitespace, tabs, comments, URLs and a missing final newline are accepted", () => {
  const p = parsePolicy(
    `  # a regulator's policy\n\tlog\t${log.verifierKey()}  https://log.example/ \n\n` +
      `witness  R ${W.X1.verifierKey()} https://w.example/\n   # comment\nquorum R`,
  );
  assert.equal(p.logs[0].url, "https://log.example/");
  assert.equal(p.witnesses.get("R")?.url, "https://w.example/");
  assert.equal(p.quorum, "R");
});

Deno.test("syntax: every rule of the spec is enforced, with the line number", () => {
  const L = `log ${log.verifierKey()}\n`;
  const w = (n: string, k = "X1") => `witness ${n} ${W[k].verifierKey()}\n`;
  const cases: [string, number][] = [
    [L, 0], // no quorum
    [L + "quorum none\nquorum none\n", 3],
    [L + "quorum W\n", 2], // undefined
    [L + "quorum W\n" + w("W"), 2], // defined later
    [L + w("W") + w("W", "X2") + "quorum W\n", 3], // name reused
    [L + w("A") + w("B", "X1") + "quorum A\n", 3], // duplicate witness key
    [L + L + "quorum none\n", 2], // duplicate log
    [L + w("none") + "quorum none\n", 2],
    [L + w("A") + "group G 1\nquorum G\n", 3], // no members
    [L + w("A") + "group G 2 A\nquorum G\n", 3], // k > n
    [L + w("A") + "group G 0 A\nquorum G\n", 3],
    [L + w("A") + "group G some A\nquorum G\n", 3],
    [L + w("A") + "group G any A A\nquorum G\n", 3], // listed twice
    [L + w("A") + "group G any A none\nquorum G\n", 3],
    [L + w("A") + "group G any B\nquorum G\n", 3],
    [L + w("A") + "group A any A\nquorum A\n", 3],
    [L + "witness A\nquorum none\n", 2],
    [L + "witness A notakey\nquorum none\n", 2],
    [`log ${W.X1.verifierKey()}\nquorum none\n`, 1], // cosigner key as a log key
    [`${L}witness A ${log.verifierKey()}\nquorum none\n`, 2], // log key as a witness key
    [L + "logs x\nquorum none\n", 2],
    [L + "quorum none extra\n", 2],
    [L + "quorum none\r\n", 2],
    [L + "# bad \x00 byte\nquorum none\n", 2],
  ];
  for (const [text, line] of cases) {
    assert.throws(
      () => parsePolicy(text),
      (e) => e instanceof PolicyError && e.line === line,
      JSON.stringify(text.slice(-40)),
    );
  }
  assert.throws(() => parsePolicy(new Uint8Array([0x71, 0xff, 0x0a])), PolicyError);
});

Deno.test("groups nest: a group of groups of groups, thresholds at each level", () => {
  let text = `log ${log.verifierKey()}\n`;
  for (const n of names) text += `witness ${n} ${W[n].verifierKey()}\n`;
  text += "group A 1 X1 X2\ngroup B all X3 Y1\ngroup C 2 A B Y2\ngroup D any C Y3\nquorum D\n";
  const p = parsePolicy(text);
  const met = (...s: string[]) => quorumMet(p, "D", new Set(s));
  assert.equal(met("Y3"), true);
  assert.equal(met("X1", "Y2"), true);
  assert.equal(met("X1", "X3", "Y1"), true);
  assert.equal(met("X1", "X2", "X3"), false);
  assert.equal(met("Y2", "Y1"), false);
  assert.equal(met(), false);
});

Deno.test("fuzz: any file either parses or is a PolicyError; mutated example never crashes", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.uint8Array({ maxLength: 300 }),
        fc.tuple(fc.nat(EXAMPLE.length), fc.nat(EXAMPLE.length), fc.string({ maxLength: 12 }))
          .map(([a, b, s]) => EXAMPLE.slice(0, Math.min(a, b)) + s + EXAMPLE.slice(Math.max(a, b))),
      ),
      (file) => {
        try {
          const p = parsePolicy(file);
          assert.ok(p.quorum === "none" || p.witnesses.has(p.quorum) || p.groups.has(p.quorum));
        } catch (e) {
          assert.ok(e instanceof PolicyError, String(e));
        }
      },
    ),
    { numRuns: 500 },
  );
});
