/**
 * The SEAL CKKS backend against an independent Float64 reference: every
 * operation, level alignment, exact scales, the depth budget, key roles,
 * serialization and tampering. One key generation for the whole file.
 */
import { assert, assertEquals, assertThrows } from "./_helpers.ts";
import fc from "fast-check";
import {
  chooseParameters,
  createSealContext,
  MAX_COEFF_MODULUS_BITS,
  validateParameterSet,
} from "../../core/fhe/params.ts";
import type { CkksParameterSet, PolyModulusDegree } from "../../core/fhe/params.ts";
import { EvaluatorKeys, loadCiphertext, OwnerKeys, saveCiphertext } from "../../core/fhe/keys.ts";
import { MissingKeyError, SealBackend } from "../../core/fhe/backend.ts";
import type { SealVector } from "../../core/fhe/vector.ts";
import { loadSeal } from "../../core/fhe/seal.ts";
import { DepthBudgetExceededError, InputValidationError } from "../../core/errors.ts";

const PARAMS = chooseParameters({ depth: 2 });
const SLOTS = PARAMS.slots;
const STEPS = [1, 2, 4, 8, -1, 3];
const owner = await OwnerKeys.generate(PARAMS);
const evalKeys = owner.evaluationKeys({ rotationSteps: STEPS });

function backend(depthBudget?: number): SealBackend {
  return new SealBackend({ evaluator: evalKeys, owner, depthBudget });
}

/** Independent reference: a cyclic left rotation of a full slot vector. */
function rot(x: Float64Array, k: number): Float64Array {
  const n = x.length;
  return Float64Array.from(x, (_, i) => x[(((i + k) % n) + n) % n]);
}

function full(values: number[]): Float64Array {
  const out = new Float64Array(SLOTS);
  out.set(values);
  return out;
}

function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function random(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

Deno.test("chooseParameters picks the smallest ring that holds depth and slots at 128-bit", () => {
  assertEquals(chooseParameters({ depth: 2 }).poly_modulus_degree, 8192);
  assertEquals(chooseParameters({ depth: 3 }).poly_modulus_degree, 16384);
  assertEquals(chooseParameters({ depth: 7 }).poly_modulus_degree, 16384);
  assertEquals(chooseParameters({ depth: 8 }).poly_modulus_degree, 32768);
  assertEquals(chooseParameters({ depth: 1, slots: 4097 }).poly_modulus_degree, 16384);
  assertEquals(chooseParameters({ depth: 4 }).coeff_mod_bit_sizes, [60, 40, 40, 40, 40, 60]);
  assertThrows(() => chooseParameters({ depth: 20 }), InputValidationError);
  assertThrows(() => chooseParameters({ depth: 3, polyModulusDegree: 8192 }), InputValidationError);
  assertThrows(() => chooseParameters({ depth: -1 }), InputValidationError);
});

Deno.test("the 128-bit table matches SEAL's own CoeffModulus.MaxBitCount", async () => {
  const seal = await loadSeal();
  for (const n of [8192, 16384, 32768] as PolyModulusDegree[]) {
    assertEquals(
      seal.CoeffModulus.MaxBitCount(n, seal.SecLevelType.tc128),
      MAX_COEFF_MODULUS_BITS[n],
    );
  }
});

Deno.test("every parameter rule is enforced, naming the field", () => {
  const cases: [Partial<Record<keyof CkksParameterSet, unknown>>, string][] = [
    [{ poly_modulus_degree: 4096 }, "/parameter_set/poly_modulus_degree"],
    [{ coeff_mod_bit_sizes: [60, 40, 40, 40, 60] }, "/parameter_set/coeff_mod_bit_sizes"], // 240 > 218
    [
      { coeff_mod_bit_sizes: [60, 61, 60], multiplicative_depth: 1 },
      "/parameter_set/coeff_mod_bit_sizes",
    ],
    [
      { coeff_mod_bit_sizes: [60, 30, 60], multiplicative_depth: 1 },
      "/parameter_set/coeff_mod_bit_sizes",
    ],
    [{ security_bits: 80 }, "/parameter_set/security_bits"],
    [{ multiplicative_depth: 3 }, "/parameter_set/multiplicative_depth"],
    [{ slots: 8192 }, "/parameter_set/slots"],
    [{ backend: "tenseal" }, "/parameter_set/backend"],
  ];
  for (const [patch, pointer] of cases) {
    const bad = { ...PARAMS, ...patch };
    const err = assertThrows(() => validateParameterSet(bad), InputValidationError);
    assertEquals(err.pointer, pointer, JSON.stringify(patch));
  }
  validateParameterSet(PARAMS);
});

Deno.test("SEAL accepts every chosen set at tc128", async () => {
  const seal = await loadSeal();
  for (const depth of [0, 2, 3]) {
    const ctx = createSealContext(seal, chooseParameters({ depth }));
    assert(ctx.parametersSet());
    ctx.delete();
  }
});

Deno.test("each operation matches the Float64 reference", () => {
  const b = backend();
  try {
    const x = full(random(64, 1));
    const y = full(random(64, 2));
    const w = full(random(64, 3, 0, 2));
    const ex = b.encrypt(x);
    const ey = b.encrypt(y);
    const tol = 1e-5;
    const check = (v: SealVector, expected: ArrayLike<number>, what: string, level: number) => {
      assertEquals(v.level, level, `${what} level`);
      const err = maxErr(b.decrypt(v), expected);
      assert(err < tol, `${what}: error ${err}`);
    };
    check(ex, x, "encrypt", 0);
    check(b.add(ex, ey), x.map((v, i) => v + y[i]), "add", 0);
    check(b.sub(ex, ey), x.map((v, i) => v - y[i]), "sub", 0);
    check(b.negate(ex), x.map((v) => -v), "negate", 0);
    check(b.addPlain(ex, w), x.map((v, i) => v + w[i]), "addPlain", 0);
    check(b.addPlain(ex, 2.5), x.map((v) => v + 2.5), "addPlain scalar", 0);
    check(b.mulPlain(ex, w), x.map((v, i) => v * w[i]), "mulPlain", 1);
    check(b.mulPlain(ex, -3), x.map((v) => v * -3), "mulPlain scalar", 1);
    check(b.mul(ex, ey), x.map((v, i) => v * y[i]), "mul", 1);
    check(b.square(ex), x.map((v) => v * v), "square", 1);
    check(b.rotate(ex, 1), rot(x, 1), "rotate 1", 0);
    check(b.rotate(ex, -1), rot(x, -1), "rotate -1", 0);
    check(b.rotate(ex, SLOTS + 3), rot(x, 3), "rotate slots+3", 0);
    check(b.rotate(ex, 0), x, "rotate 0", 0);
    const s = b.sumSlots(ex, 16);
    const expected = x.map((_, i) => {
      let t = 0;
      for (let j = 0; j < 16; j++) t += x[(i + j) % SLOTS];
      return t;
    });
    check(s, expected, "sumSlots 16", 0);
    // Two levels: (x*y) * w, then the product of two level-1 vectors.
    const xy = b.mul(ex, ey);
    check(b.mulPlain(xy, w), x.map((v, i) => v * y[i] * w[i]), "mul then mulPlain", 2);
    check(b.mul(xy, b.square(ey)), x.map((v, i) => v * y[i] ** 3), "level-1 product", 2);
  } finally {
    b.dispose();
  }
});

Deno.test("operands at different levels are aligned exactly (no scale approximation)", () => {
  const b = backend();
  try {
    const x = full(random(32, 4, 0, 100));
    const y = full(random(32, 5, 0, 100));
    const ex = b.encrypt(x);
    const ey = b.encrypt(y);
    const x2 = b.square(ex); // level 1
    const sum = b.add(x2, ey); // level 0 aligned to 1
    assertEquals(sum.level, 1);
    const err = maxErr(b.decrypt(sum), x.map((v, i) => v * v + y[i]));
    assert(err < 1e-4 * 1e4, `error ${err}`); // values up to 1e4
    assert(err / 1e4 < 1e-8, `relative error ${err / 1e4}`);
    const x3 = b.mul(x2, ex); // level 2 from levels 1 and 0
    assertEquals(x3.level, 2);
    const rel = maxErr(b.decrypt(x3), x.map((v) => v ** 3)) / 1e6;
    assert(rel < 1e-8, `relative error ${rel}`);
    const mixed = b.sub(b.mulPlain(x2, 0.5), ey); // level 2 minus level 0
    const e2 = maxErr(b.decrypt(mixed), x.map((v, i) => 0.5 * v * v - y[i]));
    assert(e2 / 1e4 < 1e-8, `relative error ${e2 / 1e4}`);
    assert(b.stats().alignments >= 3);
  } finally {
    b.dispose();
  }
});

Deno.test("exceeding the declared depth is the typed error, before any SEAL call", () => {
  const b = backend(1);
  try {
    const ex = b.encrypt([1, 2, 3]);
    const sq = b.square(ex);
    const err = assertThrows(() => b.mul(sq, ex), DepthBudgetExceededError);
    assertEquals([err.declared, err.attempted], [1, 2]);
    assertThrows(() => b.mulPlain(sq, 2), DepthBudgetExceededError);
    assertEquals(b.stats().depthConsumed, 1);
    assertThrows(() => backend(3), InputValidationError); // chain has only 2 levels
  } finally {
    b.dispose();
  }
});

Deno.test("exact cancellations decrypt to zero instead of failing on transparent ciphertexts", () => {
  const b = backend();
  try {
    const ex = b.encrypt([1, 2, 3]);
    assert(maxErr(b.decrypt(b.mulPlain(ex, 0)), new Float64Array(SLOTS)) < 1e-5);
    assert(maxErr(b.decrypt(b.sub(ex, ex)), new Float64Array(SLOTS)) < 1e-5);
    assertEquals(b.mulPlain(ex, 0).level, 1);
  } finally {
    b.dispose();
  }
});

Deno.test("rotation without a Galois key for that step is a clear error", () => {
  const b = backend();
  try {
    const ex = b.encrypt([1]);
    const err = assertThrows(() => b.rotate(ex, 5), MissingKeyError);
    assert(err.message.includes("rotation step 5"));
  } finally {
    b.dispose();
  }
});

Deno.test("stats count what the circuit did and which steps it used", () => {
  const b = backend();
  try {
    const ex = b.encrypt([1, 2, 3, 4]);
    const p = b.mulPlain(ex, [1, 0, 1, 0]);
    const s = b.sumSlots(p, 4);
    b.square(s);
    b.rotate(ex, -1);
    const st = b.stats();
    assertEquals(st.ops, { add: 2, mulPlain: 1, mul: 1, rotate: 3, rescale: 2 });
    assertEquals(st.rotationSteps, [1, 2, SLOTS - 1]);
    assertEquals(st.depthConsumed, 2);
    assertEquals(st.depthDeclared, 2);
  } finally {
    b.dispose();
  }
});

Deno.test("key separation: the evaluator gets serialized keys, no secret, and cannot decrypt", async () => {
  const wire = JSON.parse(JSON.stringify(owner.exportEvaluationKeys({ rotationSteps: [1, 2] })));
  assert(!JSON.stringify(wire).includes("secret"));
  const ek = await EvaluatorKeys.fromSerialized(PARAMS, wire);
  const server = new SealBackend({ evaluator: ek });
  const client = backend();
  try {
    const x = full(random(8, 9));
    const sent = saveCiphertext(ek.seal, client.encrypt(x).ciphertext);
    const v = server.adopt(loadCiphertext(ek.seal, ek.context, sent, "/ct"));
    const out = server.mulPlain(server.sumSlots(v, 4), 2);
    assertThrows(() => server.decrypt(out), MissingKeyError);
    assertThrows(() => server.encrypt([1]), MissingKeyError);
    const back = client.adopt(
      loadCiphertext(ek.seal, evalKeys.context, saveCiphertext(ek.seal, out.ciphertext), "/r"),
    );
    const got = client.decrypt(back);
    for (let i = 0; i < 4; i++) {
      const want = 2 * (x[i] + x[i + 1] + x[i + 2] + x[i + 3]);
      assert(Math.abs(got[i] - want) < 1e-5, `slot ${i}: ${got[i]} vs ${want}`);
    }
  } finally {
    server.dispose();
    client.dispose();
    ek.dispose();
  }
});

Deno.test("tampered or mismatched transport data is rejected with the field named", async () => {
  const wire = owner.exportEvaluationKeys({ rotationSteps: [1] });
  const cut = { ...wire, relin_keys: wire.relin_keys.slice(0, 400) };
  const e1 = await EvaluatorKeys.fromSerialized(PARAMS, cut).then(() => null, (e) => e);
  assert(e1 instanceof InputValidationError);
  assertEquals(e1.pointer, "/evaluation_keys/relin_keys");
  const e2 = await EvaluatorKeys.fromSerialized(PARAMS, { ...wire, rotation_steps: [2, 1] }).then(
    () => null,
    (e) => e,
  );
  assert(e2 instanceof InputValidationError);
  const other = chooseParameters({ depth: 1 });
  const e3 = await EvaluatorKeys.fromSerialized(other, wire).then(() => null, (e) => e);
  assert(e3 instanceof InputValidationError, String(e3));
  assertThrows(
    () => loadCiphertext(evalKeys.seal, evalKeys.context, "not base64!", "/cts/0"),
    InputValidationError,
  );
});

Deno.test("property: random depth-2 programs agree with Float64 evaluation", () => {
  const b = backend();
  try {
    const x = full(random(16, 11));
    const y = full(random(16, 12));
    const base: [SealVector, Float64Array][] = [[b.encrypt(x), x], [b.encrypt(y), y]];
    const op = fc.oneof(
      fc.record({ k: fc.constant("add"), i: fc.nat(), j: fc.nat() }),
      fc.record({ k: fc.constant("sub"), i: fc.nat(), j: fc.nat() }),
      fc.record({ k: fc.constant("mul"), i: fc.nat(), j: fc.nat() }),
      fc.record({
        k: fc.constant("mulPlain"),
        i: fc.nat(),
        c: fc.double({ min: -2, max: 2, noNaN: true }),
      }),
      fc.record({ k: fc.constant("rotate"), i: fc.nat(), s: fc.constantFrom(...STEPS) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 6 }), (ops) => {
        const pool = [...base];
        for (const o of ops) {
          const [a, av] = pool[o.i % pool.length];
          if (o.k === "rotate") pool.push([b.rotate(a, o.s), rot(av, o.s)]);
          else if (o.k === "mulPlain") {
            if (a.level >= 2) continue;
            pool.push([b.mulPlain(a, o.c), av.map((v) => v * o.c)]);
          } else {
            const [c, cv] = pool[o.j % pool.length];
            if (o.k === "mul") {
              if (Math.max(a.level, c.level) >= 2) continue;
              pool.push([b.mul(a, c), av.map((v, i) => v * cv[i])]);
            } else if (o.k === "add") pool.push([b.add(a, c), av.map((v, i) => v + cv[i])]);
            else pool.push([b.sub(a, c), av.map((v, i) => v - cv[i])]);
          }
        }
        const [last, want] = pool[pool.length - 1];
        const err = maxErr(b.decrypt(last), want);
        return err < 1e-5;
      }),
      { numRuns: 25 },
    );
  } finally {
    b.dispose();
  }
});

Deno.test("release frees a vector early; the backend then refuses it", () => {
  const b = backend();
  try {
    const v = b.encrypt([1, 2]);
    const w = b.add(v, v);
    b.release(v, v);
    assertThrows(() => b.decrypt(v), InputValidationError);
    assert(Math.abs(b.decrypt(w)[1] - 4) < 1e-5);
  } finally {
    b.dispose();
  }
});

Deno.test("owner and evaluator keys for different parameters cannot share a backend", async () => {
  const other = await OwnerKeys.generate(chooseParameters({ depth: 1 }));
  try {
    const e = assertThrows(
      () => new SealBackend({ evaluator: evalKeys, owner: other }),
      InputValidationError,
    );
    assertEquals(e.pointer, "/owner");
  } finally {
    other.dispose();
  }
});

Deno.test("dispose frees keys and refuses further use", () => {
  const b = backend();
  const v = b.encrypt([1]);
  b.dispose();
  b.dispose();
  assertThrows(() => b.decrypt(v));
});

globalThis.addEventListener("unload", () => {
  evalKeys.dispose();
  owner.dispose();
});
