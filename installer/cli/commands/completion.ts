import { UsageError } from '../../model/errors.js';
import type { CommandSpec } from '../types.js';

export const SHELLS = ['bash', 'zsh'] as const;

/** The completion script comes from yargs itself; the completions it asks for follow the registry's commands and options. */
export const completionCommand: CommandSpec = {
  command: 'completion [shell]',
  describe: 'Print a bash or zsh completion script',
  positionals: { shell: { choices: SHELLS, default: 'bash', describe: 'Shell to complete in' } },
  options: [],
  examples: [
    ['$0 completion bash >> ~/.bashrc', 'complete commands, options and bridge ids in bash'],
    ['$0 completion zsh >> ~/.zshrc', 'the same in zsh'],
  ],
  writes: false,
  duringParse: (parser) => {
    // The typings omit yargs' ($0, cmd) parameters; cmd names our command in the script's install hint.
    (parser as unknown as { showCompletionScript($0: string, cmd: string): void }).showCompletionScript('bridgectl', 'completion');
  },
};

/**
 * yargs picks its zsh or bash script from $SHELL and $ZSH_NAME when it builds
 * a parser; `completion <shell>` names the shell instead, so those two are
 * set for the parse alone. Returns what puts them back.
 */
export function completionShell(argv: readonly string[]): () => void {
  const words = argv.filter((a) => !a.startsWith('-'));
  if (words[0] !== 'completion') return () => {};
  if (argv.includes('--json')) throw new UsageError('completion prints a shell script, not JSON', 'drop --json');
  const shell = words[1] ?? 'bash';
  if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`completion: unknown shell '${shell}'; bridgectl completes in ${SHELLS.join(' and ')}`, 'bridgectl completion bash, or bridgectl completion zsh');
  const saved = { SHELL: process.env.SHELL, ZSH_NAME: process.env.ZSH_NAME };
  process.env.SHELL = `/bin/${shell}`;
  process.env.ZSH_NAME = shell === 'zsh' ? 'zsh' : '';
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
