#!/usr/bin/env node
// The bin: wire the real process to main() and set the exit code. Nothing else.
import { main } from './cli.js';

main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  isTTY: process.stdout.isTTY === true,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bridgectl: internal error\n${String(err)}\n`);
    process.exitCode = 1;
  },
);
