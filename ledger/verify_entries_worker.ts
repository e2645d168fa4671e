/**
 * Worker half of the local audit (`verifyLog`): checks ranges of entries
 * (`checkRange`, ledger/verify_entries.ts) on a second thread while the
 * audit's thread reads the store and recomputes the tree and the indexes.
 * Message in: a {@linkcode RangeRequest}; out: `{id, checked}` (a
 * {@linkcode RangeChecked}, its hash buffers transferred). Ranges arrive in
 * order; the chain continues from the last leaf hash of the previous range
 * unless the request names `prev`.
 *
 * @module
 */
import { checkRange, type RangeChecked, type RangeRequest, unpack } from "./verify_entries.ts";

interface Scope {
  onmessage: ((e: MessageEvent<RangeRequest>) => void) | null;
  postMessage(m: { id: number; checked: RangeChecked }, transfer: Transferable[]): void;
}
const scope = self as unknown as Scope;
let last: Uint8Array = new Uint8Array(32);

scope.onmessage = (e) => {
  const r = e.data;
  const { checked, last: l } = checkRange(
    r.start,
    r.prev ?? last,
    unpack(r.leaves, r.leafEnds),
    unpack(r.envelopes, r.envelopeEnds),
  );
  last = l;
  scope.postMessage({ id: r.id, checked }, [
    checked.leafHashes.buffer as ArrayBuffer,
    checked.envelopeHashes.buffer as ArrayBuffer,
    checked.bodyHashes.buffer as ArrayBuffer,
  ]);
};
