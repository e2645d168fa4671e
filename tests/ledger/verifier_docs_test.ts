/**
 * The pure verifiers (Merkle proofs, signed notes, checkpoints, receipts) are
 * the part of the library independent auditors call directly: every exported
 * function and class says what it computes and carries an `@example` (which
 * `deno test --doc` runs), and the Merkle API has one verifier per proof kind.
 */
import assert from "node:assert/strict";

interface DocTag {
  kind: string;
}
interface Declaration {
  kind: string;
  jsDoc?: { doc?: string; tags?: DocTag[] };
}
interface DocSymbol {
  name: string;
  declarations: Declaration[];
}

async function exportedSymbols(module: string): Promise<DocSymbol[]> {
  const url = new URL(`../../ledger/${module}`, import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", url.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const json = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    nodes: Record<string, { symbols: DocSymbol[] }>;
  };
  return Object.values(json.nodes).flatMap((n) => n.symbols);
}

const MODULES = ["merkle/mod.ts", "note.ts", "checkpoint.ts", "tlog_proof.ts"];

Deno.test("every exported function and class of the pure verifiers has a doc and an @example", async () => {
  for (const module of MODULES) {
    const symbols = await exportedSymbols(module);
    assert.ok(symbols.length > 5, `${module}: ${symbols.length} exports`);
    for (const s of symbols) {
      for (const d of s.declarations) {
        if (d.kind !== "function" && d.kind !== "class") continue;
        assert.ok((d.jsDoc?.doc ?? "").trim().length > 20, `${module}: ${s.name} has no doc`);
        // Error classes are shown by the examples of the functions that throw them.
        if (d.kind === "class" && s.name.endsWith("Error") && s.name !== "ProofError") continue;
        const tags = d.jsDoc?.tags ?? [];
        assert.ok(tags.some((t) => t.kind === "example"), `${module}: ${s.name} has no @example`);
      }
    }
  }
});

Deno.test("merkle/mod.ts: one verifier per proof kind, and every function cites its source", async () => {
  const symbols = await exportedSymbols("merkle/mod.ts");
  const names = symbols.map((s) => s.name);
  assert.deepEqual(names.filter((n) => /^(verify|check)/.test(n)).sort(), [
    "verifyConsistency",
    "verifyInclusion",
  ]);
  for (const s of symbols) {
    for (const d of s.declarations) {
      if (d.kind !== "function") continue;
      assert.match(d.jsDoc?.doc ?? "", /RFC (6962|9162) §|Crosby–Wallach/, s.name);
    }
  }
});
