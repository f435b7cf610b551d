/**
 * The command registry: one list drives yargs (parser.ts), help, completion,
 * the dispatch in cli.ts and the lock (safety.ts asks whether a command
 * writes). Adding a command is a module in this directory and a line here.
 */
import { checkCommand } from './check.js';
import { channelCommand } from './channel.js';
import { completionCommand } from './completion.js';
import { doctorCommand } from './doctor.js';
import { installCommand } from './install.js';
import { renderCommand } from './render.js';
import { statusCommand } from './status.js';
import { uninstallCommand } from './uninstall.js';
import { upgradeCommand } from './upgrade.js';
import { commandName, type CommandSpec } from '../types.js';

/** In help order. */
export const commands: readonly CommandSpec[] = [
  installCommand,
  upgradeCommand,
  uninstallCommand,
  checkCommand,
  renderCommand,
  doctorCommand,
  statusCommand,
  completionCommand,
  channelCommand,
];

export const COMMANDS: readonly string[] = commands.map(commandName);

/** The command the words name (`channel list`: the list subcommand), or undefined. */
export function findCommand(words: readonly (string | number)[]): CommandSpec | undefined {
  let found: CommandSpec | undefined;
  let among: readonly CommandSpec[] | undefined = commands;
  for (const word of words) {
    const next: CommandSpec | undefined = among?.find((c) => commandName(c) === String(word));
    if (next === undefined) break;
    found = next;
    among = next.subcommands;
  }
  return found;
}

/** Whether the command the words name may write; an unknown one is taken as writing, so it is serialized by default. */
export function commandWrites(words: readonly (string | number)[]): boolean {
  return findCommand(words)?.writes ?? true;
}
