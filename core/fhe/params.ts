/**
 * CKKS parameter sets: chosen per circuit, validated at 128-bit security,
 * and reported as a plain object (the envelope's `parameter_set`).
 *
 * The coefficient modulus is `[edge, scale × depth, edge]` bits: one prime
 * per multiplicative level between a first prime that holds the result's
 * integer part and a special prime used by key switching. The total must
 * stay within SEAL's 128-bit table (HomomorphicEncryption.org standard):
 * 218 bits at N = 2^13, 438 at 2^14, 881 at 2^15. With the default 60/40
 * split that allows depth 2, 7 and 19.
 *
 * @module
 */
import { InputValidationError } from "../errors.ts";
import type { SealModule } from "./seal.ts";
import { NODE_SEAL_VERSION, SEAL_LIBRARY, sealCall } from "./seal.ts";
import type { SEALContext } from "node-seal";

// The ring dimensions and their modulus limits live in ring_degrees.ts, which
// loads no SEAL code (the server's configuration reads them at start-up).
export {
  MAX_COEFF_MODULUS_BITS,
  POLY_MODULUS_DEGREES,
  type PolyModulusDegree,
} from "./ring_degrees.ts";
import {
  MAX_COEFF_MODULUS_BITS,
  POLY_MODULUS_DEGREES,
  type PolyModulusDegree,
} from "./ring_degrees.ts";

/** The live parameters of a CKKS evaluation, as recorded in envelopes. */
export interface CkksParameterSet {
  /** Always `seal-ckks`. */
  backend: "seal-ckks";
  /** `node-seal <version>`. */
  backend_version: string;
  /** The wrapped library, `Microsoft SEAL 4.1`. */
  library: string;
  /** Always `ckks`. */
  scheme: "ckks";
  /** Ring dimension N. */
  poly_modulus_degree: PolyModulusDegree;
  /** Bit sizes of the coefficient modulus primes, first to special. */
  coeff_mod_bit_sizes: number[];
  /** log2 of the encoding scale. */
  scaling_factor_bits: number;
  /** Classical security level in bits (128). */
  security_bits: 128;
  /** Levels the chain supports (number of scale primes). */
  multiplicative_depth: number;
  /** Slots per ciphertext (N/2). */
  slots: number;
}

/** What a circuit needs from its parameters. */
export interface ParameterRequest {
  /** Multiplicative depth the circuit declares. */
  depth: number;
  /** Slots the circuit's layout needs (its backend's `slots` must be at least this). @default 1 */
  slots?: number;
  /** Force a ring dimension instead of the smallest that fits. */
  polyModulusDegree?: PolyModulusDegree;
  /** log2 of the scale; also the bit size of each level prime. @default 40 */
  scaleBits?: number;
  /** Bit size of the first and special primes. @default 60 */
  edgeBits?: number;
}

/**
 * The smallest 128-bit-secure parameter set with `depth` levels and at least
 * `slots` slots (or the forced ring dimension).
 *
 * @throws {InputValidationError} if no supported ring fits the request.
 * @example
 * ```ts
 * import { chooseParameters } from "./params.ts";
 * const p = chooseParameters({ depth: 2 });
 * console.assert(p.poly_modulus_degree === 8192);
 * console.assert(p.coeff_mod_bit_sizes.join() === "60,40,40,60");
 * ```
 */
export function chooseParameters(request: ParameterRequest): CkksParameterSet {
  const { depth } = request;
  const slots = request.slots ?? 1;
  const scaleBits = request.scaleBits ?? 40;
  const edgeBits = request.edgeBits ?? 60;
  if (!Number.isInteger(depth) || depth < 0 || depth > 40) {
    throw new InputValidationError(
      "/depth",
      "range",
      `depth must be an integer in [0, 40], got ${depth}`,
    );
  }
  if (!Number.isInteger(slots) || slots < 1) {
    throw new InputValidationError(
      "/slots",
      "range",
      `slots must be a positive integer, got ${slots}`,
    );
  }
  const candidates = request.polyModulusDegree === undefined
    ? POLY_MODULUS_DEGREES
    : [request.polyModulusDegree];
  for (const n of candidates) {
    const set = buildSet(n, depth, scaleBits, edgeBits);
    if (n / 2 >= slots && totalBits(set) <= MAX_COEFF_MODULUS_BITS[n]) {
      validateParameterSet(set);
      return set;
    }
  }
  throw new InputValidationError(
    "/depth",
    "fits-128-bit",
    `no ring dimension in [${candidates.join(", ")}] holds depth ${depth} with ${slots} slots ` +
      `at 128-bit security (${edgeBits}+${scaleBits}x${depth}+${edgeBits} bits)`,
  );
}

function buildSet(
  n: PolyModulusDegree,
  depth: number,
  scaleBits: number,
  edgeBits: number,
): CkksParameterSet {
  return {
    backend: "seal-ckks",
    backend_version: `node-seal ${NODE_SEAL_VERSION}`,
    library: SEAL_LIBRARY,
    scheme: "ckks",
    poly_modulus_degree: n,
    coeff_mod_bit_sizes: [edgeBits, ...Array<number>(depth).fill(scaleBits), edgeBits],
    scaling_factor_bits: scaleBits,
    security_bits: 128,
    multiplicative_depth: depth,
    slots: n / 2,
  };
}

function totalBits(set: CkksParameterSet): number {
  return set.coeff_mod_bit_sizes.reduce((a, b) => a + b, 0);
}

/**
 * Check a parameter set (for example one received in a split-flow request)
 * against every rule, without SEAL: known ring, 128-bit bit budget, prime
 * sizes SEAL can generate (≤ 60 bits), level primes equal to the scale, edge
 * primes at least the scale, and consistent depth and slot count.
 *
 * @throws {InputValidationError} naming the field and the rule.
 */
export function validateParameterSet(value: unknown): asserts value is CkksParameterSet {
  const p = value as Partial<CkksParameterSet> | null;
  const fail = (field: string, rule: string, msg: string): never => {
    throw new InputValidationError(`/parameter_set/${field}`, rule, msg);
  };
  if (p === null || typeof p !== "object") {
    throw new InputValidationError("/parameter_set", "object", "parameter_set must be an object");
  }
  if (p.backend !== "seal-ckks") fail("backend", "const", `backend must be "seal-ckks"`);
  if (p.scheme !== "ckks") fail("scheme", "const", `scheme must be "ckks"`);
  if (p.security_bits !== 128) fail("security_bits", "const", "security_bits must be 128");
  const n = p.poly_modulus_degree as PolyModulusDegree;
  if (!POLY_MODULUS_DEGREES.includes(n)) {
    fail(
      "poly_modulus_degree",
      "enum",
      `poly_modulus_degree must be one of ${POLY_MODULUS_DEGREES.join(", ")}`,
    );
  }
  const bits = p.coeff_mod_bit_sizes;
  if (!Array.isArray(bits) || bits.length < 2 || !bits.every((b) => Number.isInteger(b))) {
    fail("coeff_mod_bit_sizes", "integers", "coeff_mod_bit_sizes must be at least 2 integers");
  }
  const sizes = bits as number[];
  const scale = p.scaling_factor_bits as number;
  if (!Number.isInteger(scale) || scale < 20 || scale > 59) {
    fail("scaling_factor_bits", "range", "scaling_factor_bits must be an integer in [20, 59]");
  }
  if (sizes.some((b) => b < 20 || b > 60)) {
    fail("coeff_mod_bit_sizes", "prime-size", "every prime must be 20 to 60 bits");
  }
  if (sizes.slice(1, -1).some((b) => b !== scale)) {
    fail("coeff_mod_bit_sizes", "level-primes", "level primes must equal scaling_factor_bits");
  }
  if (sizes[0] < scale || sizes[sizes.length - 1] < scale) {
    fail(
      "coeff_mod_bit_sizes",
      "edge-primes",
      "first and special primes must be at least the scale",
    );
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total > MAX_COEFF_MODULUS_BITS[n]) {
    fail(
      "coeff_mod_bit_sizes",
      "security-128",
      `total ${total} bits exceeds ${
        MAX_COEFF_MODULUS_BITS[n]
      } allowed at N=${n} for 128-bit security`,
    );
  }
  if (p.multiplicative_depth !== sizes.length - 2) {
    fail(
      "multiplicative_depth",
      "chain",
      "multiplicative_depth must equal the number of level primes",
    );
  }
  if (p.slots !== n / 2) fail("slots", "const", "slots must be poly_modulus_degree / 2");
  if (typeof p.backend_version !== "string" || typeof p.library !== "string") {
    fail("backend_version", "string", "backend_version and library must be strings");
  }
}

/**
 * Build a SEAL context for a parameter set and confirm SEAL accepts it at
 * 128-bit security (`parametersSet()` and the `tc128` qualifier). The caller
 * owns the context and must `delete()` it.
 *
 * @throws {InputValidationError} if the set breaks a rule or SEAL rejects it.
 */
export function createSealContext(seal: SealModule, set: CkksParameterSet): SEALContext {
  validateParameterSet(set);
  const parms = new seal.EncryptionParameters(seal.SchemeType.ckks);
  try {
    parms.setPolyModulusDegree(set.poly_modulus_degree);
    const moduli = sealCall(
      "CoeffModulus.Create",
      () =>
        seal.CoeffModulus.Create(set.poly_modulus_degree, Int32Array.from(set.coeff_mod_bit_sizes)),
    );
    parms.setCoeffModulus(moduli);
    moduli.delete();
    const context = sealCall(
      "SEALContext",
      () => new seal.SEALContext(parms, true, seal.SecLevelType.tc128),
    );
    const first = context.firstContextData();
    const qualifiers = first.qualifiers();
    const ok = context.parametersSet() && qualifiers.securityLevel === seal.SecLevelType.tc128;
    qualifiers.delete();
    first.delete();
    if (!ok) {
      context.delete();
      throw new InputValidationError(
        "/parameter_set",
        "seal-accepts",
        "SEAL rejected the parameters at 128-bit security",
      );
    }
    return context;
  } finally {
    parms.delete();
  }
}
