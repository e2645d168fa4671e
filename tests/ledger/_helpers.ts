/**
 * Test helpers for the ledger: envelopes in bulk (signed once, then varied:
 * the ledger stores what its caller already verified, so signatures are not
 * its concern) and temporary data directories.
 *
 * @module
 */
import { buildEnvelope, parseEnvelopeText, parseEnvelopeValue } from "../../core/envelope.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import type { Envelope, ParsedEnvelope, PrimitiveName } from "../../core/envelope_types.ts";

let template: Envelope | undefined;

/** A signed native envelope used as the template of {@link makeEnvelope}. */
export async function templateEnvelope(): Promise<Envelope> {
  if (!template) {
    const signer = await InProcessKeyProvider.generate("test-issuer-key");
    template = await buildEnvelope({
      primitive: "drift",
      backend: "plaintext",
      parameterSet: { backend: "plaintext" },
      regulations: ["EU_AI_ACT_ART15"],
      result: { cvm: 0.25, n: 0 },
      inputs: { ref: [1, 2, 3], cur: [2, 3, 4] },
      depthBudget: { declared: 1, consumed: 1 },
      issuer: "acme",
      issuedAt: "2026-01-01T00:00:00.000Z",
    }, signer);
  }
  return template;
}

/** Options of {@link makeEnvelope}. */
export interface MakeOptions {
  issuer?: string;
  primitive?: PrimitiveName;
  issuedAt?: string;
  /** Extra bytes of padding in `result` (to reach a target size). */
  pad?: number;
}

/** A distinct envelope number `i` (distinct canonical bytes for distinct `i`). */
export async function makeEnvelope(i: number, o: MakeOptions = {}): Promise<ParsedEnvelope> {
  const t = await templateEnvelope();
  const env = structuredClone(t) as Envelope;
  env.result = { ...env.result, n: i, ...(o.pad ? { pad: "x".repeat(o.pad) } : {}) };
  if (o.issuer) env.issuer = o.issuer;
  if (o.primitive) env.primitive = o.primitive;
  if (o.issuedAt) env.issued_at = o.issuedAt;
  return parseEnvelopeValue(env);
}

/** Parse a fixture envelope from the shared regaudit-fhe fixtures. */
export async function fixtureEnvelope(name: string): Promise<ParsedEnvelope> {
  const text = await Deno.readTextFile(
    new URL(`../fixtures/regaudit-fhe/envelopes/${name}`, import.meta.url),
  );
  return parseEnvelopeText(text);
}

/** A fresh temporary directory, removed by the returned disposer. */
export async function tempDir(): Promise<{ dir: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-ledger-test-" });
  return {
    dir,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
