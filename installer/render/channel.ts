/**
 * One channel entry of the channels mu-plugin: its data, its rendering, and
 * reading it back from an installed block (adoption, `channel list`).
 */
import type { ChannelSpec } from '../model/channel.js';
import { RenderError } from '../model/errors.js';
import { BLOCK_ID } from './markers.js';
import { parsePhpList, parsePhpMap, parsePhpString } from '../lib/php.js';
import { renderTemplate } from './templates.js';

/** The filter the channels mu-plugin feeds and the transport reads. */
export const REGISTRY_FILTER = 'wp_coding_agents_cli_channels';

export function renderScaffold(): string {
  return renderTemplate('channels.php.hbs', { registryFilter: REGISTRY_FILTER });
}

/** Body lines of the block (without the marker lines). */
export function renderChannelBody(spec: ChannelSpec): string[] {
  if (!BLOCK_ID.test(spec.name)) {
    throw new RenderError(`invalid channel name ${JSON.stringify(spec.name)}: use lowercase letters, digits, '-' and '_', starting with a letter or digit`);
  }
  if (spec.command === '') throw new RenderError(`channel '${spec.name}': command is empty`);
  if (!Number.isSafeInteger(spec.timeout) || spec.timeout < 0) {
    throw new RenderError(`channel '${spec.name}': timeout must be a non-negative integer, got ${spec.timeout}`);
  }
  const text = renderTemplate('channel-block.php.hbs', {
    name: spec.name,
    command: spec.command,
    args: spec.args,
    detach: spec.detach,
    timeout: spec.timeout,
    env: spec.env.length > 0 ? spec.env : null,
  });
  return text.replace(/\n$/, '').split('\n');
}

const ENTRY = /^\s*'(command|args|detach|timeout|env)'\s*=>\s*(.*?),\s*$/;
const HEAD = /^\s*\$channels\[('(?:[^'\\]|\\.)*')\]\s*=\s*\[\s*$/;

/**
 * Read a block body back into a spec. Returns undefined when the body is not
 * in the shape bridgectl renders (hand-edited beyond recognition): callers
 * then ask for explicit flags instead of guessing.
 */
export function parseChannelBody(body: readonly string[]): ChannelSpec | undefined {
  let name: string | undefined;
  const fields = new Map<string, string>();
  for (const line of body) {
    const head = HEAD.exec(line);
    if (head) {
      name = parsePhpString(head[1] ?? '');
      continue;
    }
    const entry = ENTRY.exec(line);
    if (entry) fields.set(entry[1] ?? '', entry[2] ?? '');
  }
  const command = parsePhpString(fields.get('command') ?? '');
  const args = parsePhpList(fields.get('args') ?? '');
  const detachText = fields.get('detach');
  const timeoutText = fields.get('timeout') ?? '';
  const env = fields.has('env') ? parsePhpMap(fields.get('env') ?? '') : [];
  if (name === undefined || command === undefined || args === undefined || env === undefined) return undefined;
  if (detachText !== 'true' && detachText !== 'false') return undefined;
  if (!/^\d+$/.test(timeoutText)) return undefined;
  return { name, command, args, detach: detachText === 'true', timeout: Number(timeoutText), env };
}

export function envValue(spec: ChannelSpec, key: string): string | undefined {
  return spec.env.find(([k]) => k === key)?.[1];
}
