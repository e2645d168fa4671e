/** Small assertion helpers over node:assert for the fhe tests. */
import assert from "node:assert/strict";

export { assert };

/** Deep strict equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}

/** `fn` must throw an instance of `cls`; returns the error. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  cls: abstract new (...args: never[]) => E = Error as unknown as abstract new (
    ...args: never[]
  ) => E,
): E {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    return e as E;
  }
  throw new assert.AssertionError({ message: `expected ${cls.name} to be thrown` });
}
