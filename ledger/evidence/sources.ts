/**
 * Where a pack's data comes from: a ledger in this process (a `--data`
 * directory, or the server's own log for `GET /v1/evidence`) or a server
 * reached over HTTP (`--server URL`). Both answer the same query, tiles and
 * checkpoint, so both give the same pack.
 *
 * @module
 */
import { budgetKey, type DatasetBudget } from "../../core/dp/budgets.ts";
import type { TrustStoreJson } from "../../core/trust_store.ts";
import type { LogClient } from "../client.ts";
import { scanIndexes } from "../query.ts";
import type { LedgerStore } from "../store.ts";
import { parseTilePath, type Tile } from "../tiles/path.ts";
import type { PrivacyBudgetStatus } from "../privacy_budget.ts";
import type { QueryOptions, QueryResult } from "../wire.ts";
import type { SourceBudget } from "./budgets.ts";
import { EvidenceExportError, type EvidenceSource } from "./export.ts";

/** The part of a ledger (or the server's `LogService`) a pack is read from. */
export interface LocalLog {
  /** Ed25519 verifier key. */
  readonly verifierKey: string;
  /** Every verifier key, Ed25519 first. */
  readonly verifierKeys?: readonly string[];
  /** Latest signed checkpoint. */
  checkpoint(): Promise<string>;
  /** Query page. */
  query(opts: QueryOptions): Promise<QueryResult>;
  /** A tile or bundle of the current tree, null beyond it. */
  tile?(tile: Tile): Promise<Uint8Array | null>;
  /**
   * The ledger's store, when the log is a ledger in this process: the
   * selection's indexes are then read from its index alone, not through
   * query pages that also read and summarise every entry.
   */
  readonly store?: Pick<LedgerStore, "scanIndex">;
  /** The log's privacy-budget accounting of a pair. */
  privacyBudget?(issuer: string, dataset: string): Promise<PrivacyBudgetStatus>;
}

/** A pair's budget and spending entries from a `PrivacyBudgetStatus` (budgets from `budgets` when given). */
function sourceBudget(
  s: PrivacyBudgetStatus,
  budgets: ReadonlyMap<string, DatasetBudget> | null | undefined,
): SourceBudget {
  const b = budgets === undefined ? s.budget : budgets?.get(budgetKey(s.issuer, s.dataset));
  return {
    budget: b ? { epsilon: b.epsilon, delta: b.delta } : null,
    entries: s.entries,
    tree_size: s.tree_size,
  };
}

/**
 * A pack source over a ledger in this process, with the trust store in
 * force. Budgets: `budgets` when given (`--privacy-budgets FILE`; null:
 * none), else the ones the log has configured.
 */
export function localEvidenceSource(
  log: LocalLog,
  trustStore: TrustStoreJson,
  budgets?: ReadonlyMap<string, DatasetBudget> | null,
): EvidenceSource {
  const privacy = log.privacyBudget?.bind(log);
  return {
    privacyBudget: privacy &&
      (async (issuer, dataset) => sourceBudget(await privacy(issuer, dataset), budgets)),
    checkpoint: () => log.checkpoint(),
    verifierKeys: () => Promise.resolve(log.verifierKeys ?? [log.verifierKey]),
    trustStore: () => Promise.resolve(trustStore),
    query: (q) => log.query(q),
    indexes: log.store === undefined
      ? undefined
      : (selection) => scanIndexes(log.store!, selection),
    tile: async (path) => {
      const t = await log.tile?.(parseTilePath(path));
      if (t === null || t === undefined) {
        throw new EvidenceExportError(`the log has no tile ${path}`);
      }
      return t;
    },
  };
}

/**
 * A pack source over a server: its checkpoint, `GET /v1/log/keys`, its
 * query, its tiles, and the trust store in force (`GET /v1/trust-store`)
 * unless `trustStore` is given.
 */
export function remoteEvidenceSource(
  client: LogClient,
  trustStore?: TrustStoreJson,
): EvidenceSource {
  return {
    checkpoint: () => client.checkpoint(),
    verifierKeys: async () =>
      (await client.text("v1/log/keys")).split("\n").map((l) => l.trim()).filter((l) => l !== ""),
    trustStore: async () => trustStore ?? JSON.parse(await client.text("v1/trust-store")),
    query: (q) => client.query(q),
    tile: (path) => client.tile(path),
    privacyBudget: async (issuer, dataset) =>
      sourceBudget(
        JSON.parse(
          await client.text(
            `v1/privacy/budget?issuer=${encodeURIComponent(issuer)}&dataset=${
              encodeURIComponent(dataset)
            }`,
          ),
        ),
        undefined,
      ),
  };
}
