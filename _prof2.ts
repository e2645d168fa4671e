import { openLedger } from "./ledger/index.ts";
import { queryStore } from "./ledger/query.ts";
const l = await openLedger({ dataDir: "/tmp/eb20k" });
const s = l.store;
const acc: Record<string, number> = {scan: 0, read: 0, n: 0};
const w = Object.create(s);
w.scanIndex = async (sel: any, lim: number) => { const t = performance.now(); const r = await s.scanIndex(sel, lim); acc.scan += performance.now() - t; acc.n++; return r; };
w.readEntry = (i: number) => s.readEntry(i);
for (let k = 0; k < 3; k++) {
  acc.scan = 0; acc.n = 0;
  const t = performance.now();
  const r = await queryStore(w, {regulation: "NYC_LL144", limit: 100});
  console.log("total", (performance.now()-t).toFixed(1), "scan", acc.scan.toFixed(1), "calls", acc.n, r.entries.length);
}
await l.close();
