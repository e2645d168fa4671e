/**
 * Error classes shared across regledger. Every error carries a stable
 * `name` (used as `reason` by the CLI and HTTP API) and may carry `cause`.
 *
 * @module
 */

/** Base of every regledger error. */
export class RegledgerError extends Error {
  /** Build an error with a message and optional cause. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An input failed validation before any computation. `pointer` is the JSON
 * pointer (RFC 6901) of the offending field, `rule` the rule it broke.
 */
export class InputValidationError extends RegledgerError {
  /** JSON pointer of the bad field ("" for the document itself). */
  readonly pointer: string;
  /** The rule that failed, e.g. `finite`, `binary`, `same-length`. */
  readonly rule: string;
  /** Build a validation error. */
  constructor(pointer: string, rule: string, message: string, options?: ErrorOptions) {
    super(`${pointer || "/"}: ${message}`, options);
    this.pointer = pointer;
    this.rule = rule;
  }
}

/** A circuit needed more multiplicative depth than it declared. */
export class DepthBudgetExceededError extends RegledgerError {
  /** The declared budget. */
  readonly declared: number;
  /** The level the operation would have reached. */
  readonly attempted: number;
  /** Build the error. */
  constructor(declared: number, attempted: number, options?: ErrorOptions) {
    super(
      `depth budget exceeded: operation would reach level ${attempted}, budget is ${declared}`,
      options,
    );
    this.declared = declared;
    this.attempted = attempted;
  }
}
