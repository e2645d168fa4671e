import assert from "node:assert/strict";
import {
  addLoss,
  budgetKey,
  calibrate,
  composeLoss,
  datasetRelease,
  DpBlockError,
  emptyLoss,
  parsePrivacyBudgets,
  PrivacyAccountant,
  PrivacyBudgetFileError,
} from "../../core/dp/index.ts";
import { check } from "../../core/validate.ts";

const cases: [unknown, string | null][] = [
  [{ budgets: [] }, null],
  [{ budgets: [{ issuer: "acme", dataset: "sha256:ab", epsilon: 1 }] }, null],
  [{ budgets: [{ issuer: "acme", dataset: "d", epsilon: 1, delta: 1e-6 }] }, null],
  [[], ""],
  [{}, "/budgets"],
  [{ budgets: {} }, "/budgets"],
  [{ budgets: [], extra: 1 }, "/extra"],
  [{ budgets: [1] }, "/budgets/0"],
  [{ budgets: [{ dataset: "d", epsilon: 1 }] }, "/budgets/0/issuer"],
  [{ budgets: [{ issuer: "", dataset: "d", epsilon: 1 }] }, "/budgets/0/issuer"],
  [{ budgets: [{ issuer: "a", epsilon: 1 }] }, "/budgets/0/dataset"],
  [{ budgets: [{ issuer: "a", dataset: "d/", epsilon: 1, x: 1 }] }, "/budgets/0/x"],
  [{ budgets: [{ issuer: "a", dataset: " d", epsilon: 1 }] }, "/budgets/0/dataset"],
  [{ budgets: [{ issuer: "a", dataset: "d", epsilon: 0 }] }, "/budgets/0/epsilon"],
  [{ budgets: [{ issuer: "a", dataset: "d", epsilon: "1" }] }, "/budgets/0/epsilon"],
  [{ budgets: [{ issuer: "a", dataset: "d", epsilon: 1, delta: 1 }] }, "/budgets/0/delta"],
  [{ budgets: [{ issuer: "a", dataset: "d", epsilon: 1, delta: -0.1 }] }, "/budgets/0/delta"],
];

Deno.test("budget file: the parser and schemas/privacy-budgets.json agree, and errors name the member", () => {
  for (const [value, pointer] of cases) {
    const text = JSON.stringify(value);
    assert.equal(check("privacy-budgets", value).ok, pointer === null, text);
    if (pointer === null) {
      assert.doesNotThrow(() => parsePrivacyBudgets(text), text);
    } else {
      assert.throws(
        () => parsePrivacyBudgets(text),
        (e) => e instanceof PrivacyBudgetFileError && e.pointer === pointer,
        text,
      );
    }
  }
  // What a schema cannot say: one budget per issuer and dataset; not JSON.
  const dup = { budgets: [0, 1].map(() => ({ issuer: "a", dataset: "d", epsilon: 1 })) };
  assert.throws(() => parsePrivacyBudgets(JSON.stringify(dup)), /a second budget/);
  assert.throws(() => parsePrivacyBudgets("{"), /not JSON/);
  const m = parsePrivacyBudgets(JSON.stringify(cases[2][0]));
  assert.deepEqual(m.get(budgetKey("acme", "d")), {
    issuer: "acme",
    dataset: "d",
    epsilon: 1,
    delta: 1e-6,
  });
});

Deno.test("the accountant and the ledger's composition are one rule", () => {
  const specs = [
    calibrate({ mechanism: "gaussian", epsilon: 0.4, delta: 1e-7, sensitivity: 1 }, 1),
    calibrate({ mechanism: "laplace", epsilon: 0.3, sensitivity: 1 }, 3),
  ];
  const acc = new PrivacyAccountant({ epsilon: 100, delta: 1e-5 }, "rdp");
  let loss = emptyLoss();
  for (let i = 0; i < 5; i++) {
    acc.charge(specs);
    loss = addLoss(loss, specs);
  }
  const { composition, releases, ...spent } = acc.spent();
  assert.equal(composition, "rdp");
  assert.equal(releases, loss.releases);
  assert.deepEqual(composeLoss(loss, acc.budget, "rdp"), spent);
  // RDP beats basic composition for many Gaussian releases.
  assert.ok(spent.epsilon < loss.epsilon);
});

Deno.test("datasetRelease reads the noised fields of a dp block naming a dataset", () => {
  const f = calibrate({ mechanism: "laplace", epsilon: 0.5, sensitivity: 1 }, 1);
  assert.deepEqual(datasetRelease({ dp: { dataset: "d", fields: { a: f, b: f } } })?.specs, [f, f]);
  assert.equal(datasetRelease({ dp: { applied: true, fields: { a: f } } }), null);
  assert.equal(datasetRelease({}), null);
  for (
    const [mutate, pointer] of [
      [(x: Record<string, unknown>) => x.mechanism = "exp", "/dp/fields/a/mechanism"],
      [(x: Record<string, unknown>) => x.delta = 0.1, "/dp/fields/a/delta"],
      [(x: Record<string, unknown>) => x.grid = 0, "/dp/fields/a/grid"],
      [(x: Record<string, unknown>) => x.dimension = 1.5, "/dp/fields/a/dimension"],
      [(x: Record<string, unknown>) => x.epsilon = Infinity, "/dp/fields/a/epsilon"],
    ] as const
  ) {
    const g = { ...f } as Record<string, unknown>;
    mutate(g);
    assert.throws(
      () => datasetRelease({ dp: { dataset: "d", fields: { a: g } } }),
      (e) => e instanceof DpBlockError && e.pointer === pointer,
    );
  }
  const gauss = calibrate({ mechanism: "gaussian", epsilon: 0.5, delta: 1e-6, sensitivity: 1 }, 1);
  assert.throws(
    () => datasetRelease({ dp: { dataset: "d", fields: { a: { ...gauss, delta: 0 } } } }),
    DpBlockError,
  );
});
