/// <reference lib="dom" />
/**
 * The console's only way to the server: same-origin `fetch` with the user's
 * bearer token. The token lives in `sessionStorage` (gone when the browser
 * session ends, never in localStorage or a cookie); a 401 asks for one and
 * retries the request once it is given.
 *
 * @module
 */
import { h } from "./dom.ts";

const TOKEN_KEY = "regledger.console.token";

/** An API answer that was not 2xx, with the server's `error` text. */
export class ApiFailure extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Build from a status and the server's message. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiFailure";
    this.status = status;
  }
}

/** The stored token, if any. */
export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Forget the token (the "sign out" button). */
export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

let pendingPrompt: Promise<void> | null = null;

/** Show the token dialog; resolves once a token was entered. */
export function askForToken(why: string): Promise<void> {
  if (pendingPrompt) return pendingPrompt;
  pendingPrompt = new Promise<void>((resolve) => {
    const input = h("input", {
      id: "token-input",
      type: "password",
      autocomplete: "off",
      required: true,
      "aria-describedby": "token-why",
    });
    const form = h(
      "form",
      { method: "dialog" },
      h("h2", {}, "Bearer token needed"),
      h("p", { id: "token-why" }, why),
      h("label", { for: "token-input" }, "Token"),
      input,
      h("p", { class: "hint" }, "Kept for this browser tab only (sessionStorage)."),
      h("button", { type: "submit", id: "token-submit" }, "Use token"),
    );
    const dialog = h("dialog", { id: "token-dialog", "aria-labelledby": "token-title" }, form);
    form.querySelector("h2")!.id = "token-title";
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const t = input.value.trim();
      if (t === "") return;
      sessionStorage.setItem(TOKEN_KEY, t);
      dialog.close();
      dialog.remove();
      pendingPrompt = null;
      document.dispatchEvent(new CustomEvent("regledger:token"));
      resolve();
    });
    // Escape would leave the console unusable without a token: keep it open.
    dialog.addEventListener("cancel", (ev) => ev.preventDefault());
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
  return pendingPrompt;
}

async function request(path: string): Promise<Response> {
  const token = storedToken();
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  return await fetch(path, { headers, credentials: "omit" });
}

async function failure(res: Response): Promise<ApiFailure> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && typeof body.error === "string") message = body.error;
  } catch { /* not JSON */ }
  return new ApiFailure(res.status, message);
}

/** GET `path`; on 401 ask for a token and try again. */
export async function get(path: string): Promise<Response> {
  for (;;) {
    const res = await request(path);
    if (res.status !== 401) {
      if (!res.ok) throw await failure(res);
      return res;
    }
    const f = await failure(res);
    if (storedToken()) forgetToken();
    await askForToken(`The server answered: ${f.message}.`);
  }
}

/** GET `path` as JSON. */
export async function getJson<T>(path: string): Promise<T> {
  return await (await get(path)).json() as T;
}

/** GET `path` as text. */
export async function getText(path: string): Promise<string> {
  return await (await get(path)).text();
}

/** A query string from the defined values of `params`. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s === "" ? "" : `?${s}`;
}
