/**
 * Worker half of {@linkcode VerifyPool} (server/verify_pool.ts): verifies
 * envelopes off the main thread. Messages in: `{type: "store", store}` (the
 * trust store's JSON; acknowledged with `{type: "store-ok"}`) and
 * `{type: "verify", id, canonical}`; out: `{id, ok: true, kind, key_id, timestamp}` or
 * `{id, ok: false, name, message, keyId}` for a typed failure, or
 * `{id, ok: false, name: "Error", message}` for anything else.
 *
 * @module
 */
import { parseEnvelopeText } from "../core/envelope.ts";
import { EnvelopeVerificationError } from "../core/errors.ts";
import { TrustStore } from "../core/trust_store.ts";
import { verifyEnvelope } from "../core/verify.ts";
import { hybridOptions } from "./verify_options.ts";

/** Messages the pool sends. */
export type PoolRequest =
  | { type: "store"; store: unknown }
  | { type: "verify"; id: number; canonical: Uint8Array };

/** Messages the worker answers. */
export type PoolAnswer =
  | { type: "store-ok" }
  | { type: "store-error"; message: string }
  | {
    type: "verdict";
    id: number;
    ok: true;
    kind: "native" | "legacy";
    key_id: string;
    timestamp: "absent" | "verified" | "not-checked";
  }
  | {
    type: "verdict";
    id: number;
    ok: false;
    typed: boolean;
    name: string;
    message: string;
    keyId?: string;
  };

interface WorkerScope {
  onmessage: ((e: MessageEvent<PoolRequest>) => void) | null;
  postMessage(m: PoolAnswer): void;
}

const scope = self as unknown as WorkerScope;
let store: TrustStore | undefined;

scope.onmessage = async (e: MessageEvent<PoolRequest>) => {
  const m = e.data;
  if (m.type === "store") {
    try {
      store = TrustStore.fromObject(m.store);
      scope.postMessage({ type: "store-ok" });
    } catch (err) {
      scope.postMessage({ type: "store-error", message: (err as Error).message });
    }
    return;
  }
  try {
    if (!store) throw new Error("verify worker has no trust store");
    const parsed = parseEnvelopeText(m.canonical);
    const r = await verifyEnvelope(parsed, store, await hybridOptions(parsed));
    scope.postMessage({
      type: "verdict",
      id: m.id,
      ok: true,
      kind: r.kind,
      key_id: r.key_id,
      timestamp: r.timestamp,
    });
  } catch (err) {
    const typed = err instanceof EnvelopeVerificationError;
    scope.postMessage({
      type: "verdict",
      id: m.id,
      ok: false,
      typed,
      name: err instanceof Error ? err.name : "Error",
      message: err instanceof Error ? err.message : String(err),
      keyId: typed ? err.keyId : undefined,
    });
  }
};
