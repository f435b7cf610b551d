/**
 * The --json contract, written out once: every key, its type, nothing
 * else. `assertShape` fails on a missing, extra, renamed or retyped field.
 * Changing this file is changing the public interface: bump
 * JSON_SCHEMA_VERSION for anything but an added key, and update docs/json.md.
 */
export type Shape =
  | 'string'
  | 'number'
  | 'boolean'
  | 'null'
  | { oneOf: Shape[] }
  | { enum: readonly (string | number)[] }
  | { arrayOf: Shape }
  | { recordOf: Shape }
  | { object: Record<string, Shape> };

const nullable = (s: Shape): Shape => ({ oneOf: [s, 'null'] });

export const IDENTITY: Shape = {
  object: {
    serviceUser: 'string',
    uid: nullable('number'),
    gid: nullable('number'),
    home: 'string',
    dataDir: 'string',
    binary: 'string',
    site: 'string',
    init: { enum: ['systemd', 'launchd', 'none'] },
  },
};

export const FILE: Shape = {
  object: {
    path: 'string',
    status: { enum: ['create', 'update', 'unchanged', 'remove'] },
    mode: 'string',
    currentMode: nullable('string'),
    diff: 'string',
    content: nullable('string'),
  },
};

export const DIRECTORY: Shape = {
  object: { path: 'string', status: { enum: ['create'] }, mode: 'string', uid: 'number', gid: 'number' },
};

export const CHECK: Shape = {
  object: { id: 'string', status: { enum: ['ok', 'warn', 'fail'] }, message: 'string', fix: nullable('string') },
};

export const WEB_USER: Shape = {
  object: { name: 'string', source: { enum: ['flag', 'env', 'php-fpm', 'default'] }, pool: nullable('string'), others: { arrayOf: 'string' } },
};

export const UNIT_STATUS: Shape = {
  object: { unit: 'string', file: 'string', enabled: nullable('string'), active: nullable('string'), unknown: nullable('string') },
};

export const BRIDGE_STATUS: Shape = {
  object: {
    id: 'string',
    serviceUser: nullable('string'),
    home: nullable('string'),
    dataDir: nullable('string'),
    binary: nullable('string'),
    dispatch: { enum: ['direct', 'sudo'] },
    init: { enum: ['systemd', 'launchd', 'none'] },
    units: { arrayOf: UNIT_STATUS },
  },
};

export const DOCUMENT: Shape = {
  object: {
    version: { enum: [1] },
    bridgectl: 'string',
    command: { enum: ['install', 'upgrade', 'uninstall', 'check', 'render', 'doctor', 'status', ''] },
    exitCode: { enum: [0, 1, 2] },
    dryRun: 'boolean',
    site: nullable('string'),
    error: nullable({ object: { message: 'string', fix: nullable('string') } }),
    identities: { recordOf: IDENTITY },
    notes: { arrayOf: 'string' },
    directories: { arrayOf: DIRECTORY },
    files: { arrayOf: FILE },
    webUser: nullable(WEB_USER),
    checks: { arrayOf: CHECK },
    bridges: { arrayOf: BRIDGE_STATUS },
  },
};

/** Problems with `value` against `shape`, as `path: what` lines; empty when it conforms. */
export function shapeErrors(value: unknown, shape: Shape, at = '$'): string[] {
  if (typeof shape === 'string') {
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    return actual === shape ? [] : [`${at}: expected ${shape}, got ${actual}`];
  }
  if ('oneOf' in shape) {
    return shape.oneOf.some((s) => shapeErrors(value, s, at).length === 0) ? [] : [`${at}: matches none of its allowed shapes`];
  }
  if ('enum' in shape) return shape.enum.includes(value as string) ? [] : [`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(shape.enum)}`];
  if ('arrayOf' in shape) {
    if (!Array.isArray(value)) return [`${at}: expected array`];
    return value.flatMap((v, i) => shapeErrors(v, shape.arrayOf, `${at}[${i}]`));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: expected object`];
  const record = value as Record<string, unknown>;
  if ('recordOf' in shape) return Object.entries(record).flatMap(([k, v]) => shapeErrors(v, shape.recordOf, `${at}.${k}`));
  const want = Object.keys(shape.object);
  const errors = [
    ...want.filter((k) => !(k in record)).map((k) => `${at}.${k}: missing`),
    ...Object.keys(record).filter((k) => !want.includes(k)).map((k) => `${at}.${k}: not in the schema`),
  ];
  for (const k of want) if (k in record) errors.push(...shapeErrors(record[k], shape.object[k] as Shape, `${at}.${k}`));
  return errors;
}

/** Every key name the schema defines (for checking the docs mention them all). */
export function keyNames(shape: Shape): string[] {
  if (typeof shape === 'string' || 'enum' in shape) return [];
  if ('oneOf' in shape) return shape.oneOf.flatMap(keyNames);
  if ('arrayOf' in shape) return keyNames(shape.arrayOf);
  if ('recordOf' in shape) return keyNames(shape.recordOf);
  return Object.entries(shape.object).flatMap(([k, s]) => [k, ...keyNames(s)]);
}
