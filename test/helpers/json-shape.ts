/**
 * The --json contract is docs/bridgectl.schema.json, shipped in the package:
 * every test that reads a document validates it with ajv against that file.
 * Changing the schema is changing the public interface: bump
 * JSON_SCHEMA_VERSION for anything but an added key, and update docs/json.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ajvModule from 'ajv';

// ajv is CommonJS: under NodeNext its class is the default export's `default`.
const Ajv = ajvModule.default;

export const SCHEMA_PATH = path.resolve('docs/bridgectl.schema.json');
export const SCHEMA = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(SCHEMA);

/** Problems with a document against the schema, as `path: what` lines; empty when it conforms. */
export function schemaErrors(doc: unknown): string[] {
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '$'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
}

/** Every property name the schema defines (for checking the docs mention them all). */
export function keyNames(schema: unknown = SCHEMA): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  if (Array.isArray(schema)) return schema.flatMap((s) => keyNames(s));
  const node = schema as Record<string, unknown>;
  const own = node.properties && typeof node.properties === 'object' ? Object.keys(node.properties) : [];
  return [...own, ...Object.entries(node).flatMap(([k, v]) => (k === 'enum' || k === 'const' ? [] : keyNames(v)))];
}
