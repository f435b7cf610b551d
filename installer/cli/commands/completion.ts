import type { CommandSpec } from '../types.js';

/** The completion script comes from yargs itself; the completions it asks for follow the registry's commands and options. */
export const completionCommand: CommandSpec = {
  command: 'completion',
  describe: 'Print a bash/zsh completion script',
  options: [],
  examples: [['$0 completion >> ~/.bashrc', 'complete commands, options and bridge ids in bash']],
  writes: false,
  duringParse: (parser) => {
    // The typings omit yargs' ($0, cmd) parameters; cmd names our command in the script's install hint.
    (parser as unknown as { showCompletionScript($0: string, cmd: string): void }).showCompletionScript('bridgectl', 'completion');
  },
};
