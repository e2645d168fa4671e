/**
 * The server's version, read from `deno.json` (bundled into the module graph).
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };

/** Version reported by `/version`, the OpenAPI document and `regledger_build_info`. */
export const SERVER_VERSION: string = denoJson.version;
