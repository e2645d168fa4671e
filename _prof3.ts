import { openLedger } from "./ledger/index.ts";
import { resultSummary } from "./core/primitives/breach.ts";
const l = await openLedger({ dataDir: "/tmp/eb20k" });
const s = l.store;
const hits = await s.scanIndex({}, 600);
const es = await Promise.all(hits.map(h => s.readEntry(h.index)));
const dec = new TextDecoder();
const vs = es.map(e => JSON.parse(dec.decode(e!.envelope)));
for (let k = 0; k < 3; k++) {
let t = performance.now();
for (const v of vs) resultSummary(v.primitive, v.result, v.input_commitments);
console.log("summary x600", (performance.now()-t).toFixed(1));
t = performance.now();
await Promise.all(hits.map(h => s.readEntry(h.index)));
console.log("read x600", (performance.now()-t).toFixed(1));
t = performance.now();
for (let j = 0; j < 600; j += 200) await Promise.all(hits.slice(j, j+200).map(h => s.readEntry(h.index)));
console.log("read 3x200", (performance.now()-t).toFixed(1));
}
console.log(Deno.loadavg());
await l.close();
