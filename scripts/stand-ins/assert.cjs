// What the bundled CLI gets for `require('assert')`: yargs' platform shim
// imports notStrictEqual and strictEqual from it for internal invariants.
// Node's assert module makes process.stderr (to learn its colours) when it
// loads: ~2.5 ms of every run that prints nothing to stderr, for two checks
// that never fail. Same contract: throw when the invariant does not hold.
'use strict';

function fail(message, actual, expected, operator) {
  const error = new Error(message ?? `Expected ${String(actual)} ${operator} ${String(expected)}`);
  error.code = 'ERR_ASSERTION';
  return error;
}

exports.strictEqual = (actual, expected, message) => {
  if (!Object.is(actual, expected)) throw fail(message, actual, expected, '===');
};
exports.notStrictEqual = (actual, expected, message) => {
  if (Object.is(actual, expected)) throw fail(message, actual, expected, '!==');
};
