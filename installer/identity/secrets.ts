/**
 * A bridge's credential (telegram's bot token): where its value comes from,
 * checked without ever echoing it. Pure over a Facts.
 *
 * Sources, first one present wins: the flag, the environment variable, the
 * bridge's own config files (adoption), the file bridgectl keeps it in (so an
 * upgrade given nothing keeps the installed value), and last a value embedded
 * in a legacy channel block (the bash installer put the token in the URL).
 * Sources that disagree are notes naming the sources, never the values.
 */
import type { BridgeDefinition, SecretSpec } from '../model/bridge.js';
import { IdentityError, UsageError } from '../model/errors.js';
import type { Facts } from '../model/facts.js';
import type { Identity, IdentityFlags } from '../model/identity.js';

export interface SecretResolution {
  value?: string;
  /** Where the value came from, for messages. */
  source?: string;
  /** Every value seen in any source, chosen or not: reports redact them all. */
  seen: string[];
  notes: string[];
}

/** Values shorter than this are not worth redacting (and would garble output if they were). */
const MIN_REDACTED_LENGTH = 8;

export function resolveSecret(
  bridge: BridgeDefinition,
  spec: SecretSpec,
  flags: IdentityFlags,
  identity: Identity,
  host: Facts,
  legacyText: string | undefined,
): SecretResolution {
  const candidates: { source: string; value: string | undefined; kind: 'given' | 'file' | 'kept' | 'legacy' }[] = [
    { source: spec.flag, value: flags.secrets?.[spec.flag], kind: 'given' },
    { source: `env ${spec.env}`, value: host.env[spec.env], kind: 'given' },
    ...spec.adoptFrom(identity).map((f) => ({ source: f.path, value: readFrom(host, f.path, f.read), kind: 'file' as const })),
    { source: spec.file.path, value: readFrom(host, spec.file.path, spec.file.read), kind: 'kept' },
    { source: 'the installed channel block', value: legacyText === undefined ? undefined : spec.findIn(legacyText)[0], kind: 'legacy' },
  ];
  const present = candidates.filter((c): c is typeof c & { value: string } => c.value !== undefined && c.value.trim() !== '');
  // Both as found and as used (trimmed): either may reach a report.
  const seen = redactable(present.flatMap((c) => [c.value, c.value.trim()]));
  const chosen = present[0];
  if (!chosen) return { seen, notes: [] };

  const value = chosen.value.trim();
  if (!spec.shape.test(value)) {
    const what = `${spec.label} from ${chosen.source} is malformed: expected ${spec.shapeHint} (the value is not shown)`;
    if (chosen.kind === 'given') throw new UsageError(what, spec.malformedFix);
    throw new IdentityError(what, `fix ${chosen.source}, or pass ${spec.flag} (or env ${spec.env})`);
  }

  const notes: string[] = [];
  for (const other of present.slice(1)) {
    if (other.value.trim() === value) continue;
    if (other.kind === 'kept') notes.push(`${bridge.id}: the ${spec.label} in ${other.source} is replaced by the one from ${chosen.source}`);
    else if (other.kind !== 'legacy') notes.push(`${bridge.id}: the ${spec.label} from ${chosen.source} differs from the one in ${other.source}; using ${chosen.source}`);
  }
  if (present.some((c) => c.kind === 'legacy')) {
    notes.push(`${bridge.id}: the ${spec.label} moves out of the channel block into ${spec.file.path}`);
  }
  return { value, source: chosen.source, seen, notes };
}

/** The values worth redacting: distinct, and long enough that replacing them cannot garble other output. */
export function redactable(values: readonly string[]): string[] {
  return [...new Set(values)].filter((v) => v.length >= MIN_REDACTED_LENGTH);
}

function readFrom(host: Facts, path: string, read: (text: string) => string | undefined): string | undefined {
  const text = host.readText(path);
  return text === undefined ? undefined : read(text);
}
