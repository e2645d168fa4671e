/// <reference lib="dom" />
/**
 * Navigation inside the console: push the URL and let the router render it.
 *
 * @module
 */

/** The event the router listens to after a push. */
export const NAVIGATE_EVENT = "regledger:navigate";

/** Navigate to `href` (a path under /console with its query) without reloading. */
export function navigate(href: string): void {
  history.pushState(null, "", href);
  dispatchEvent(new Event(NAVIGATE_EVENT));
}
