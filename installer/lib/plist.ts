/**
 * Reading an installed launchd plist with the `plist` package (an XML
 * reader: entities, character references, CDATA and comments as launchd
 * sees them). Writing stays the Handlebars template.
 */
import { parse, type PlistValue } from 'plist';

export type PlistDict = { [key: string]: PlistValue };

/**
 * The top-level dict of an XML plist; undefined when the text is not one
 * (not XML, no <plist> root, a top level that is not a dict). A key given
 * twice is its last value, as launchd reads it.
 */
export function readPlistDict(text: string): PlistDict | undefined {
  let value: PlistValue;
  const { error, warn } = console;
  try {
    // xmldom, under plist.parse, prints what it finds wrong with a document
    // to the console and plist.parse offers no way to stop it: a damaged
    // plist is ours to report, once, not xmldom's on stderr.
    console.error = console.warn = () => undefined;
    value = parse(text);
  } catch {
    return undefined;
  } finally {
    console.error = error;
    console.warn = warn;
  }
  return isDict(value) ? value : undefined;
}

export function isDict(value: PlistValue | undefined): value is PlistDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array);
}

/** A value when it is a string (launchd's keys bridgectl reads are all strings). */
export function plistString(value: PlistValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
