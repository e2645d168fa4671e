/**
 * `GET /v1/privacy/budget?issuer=&dataset=`: an issuer's privacy budget on
 * a dataset, what the log's entries spent of it and which entries those are
 * (`schemas/privacy-budget.json`, `ledger/privacy_budget.ts`).
 *
 * @module
 */
import type { Context } from "hono";
import { datasetIdProblem } from "../../core/dp/budgets.ts";
import type { ServerDeps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { type AppEnv, onlyParams } from "../http.ts";

/** The route handler; 404 when the log keeps no privacy accounting. */
export function privacyBudgetRoute(deps: ServerDeps): (c: Context<AppEnv>) => Promise<Response> {
  return async (c) => {
    onlyParams(c, ["issuer", "dataset"]);
    const issuer = c.req.query("issuer");
    const dataset = c.req.query("dataset");
    if (issuer === undefined || issuer.length === 0 || issuer.length > 512) {
      throw new ApiError(400, "parameter 'issuer' must be 1 to 512 characters", {
        parameter: "issuer",
      });
    }
    const bad = dataset === undefined ? "the dataset is required" : datasetIdProblem(dataset);
    if (bad) throw new ApiError(400, `parameter 'dataset': ${bad}`, { parameter: "dataset" });
    if (!deps.log.privacyBudget) {
      throw new ApiError(404, "this log keeps no privacy-budget accounting");
    }
    return c.json(await deps.log.privacyBudget(issuer, dataset!));
  };
}
