/** XML text escaping for plists (reading them is lib/plist.ts). Control characters are refused, not encoded (XML 1.0 cannot carry most of them). */
import { RenderError } from '../model/errors.js';

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|[\r\n\t]/;
// Not XML 1.0 characters (a lone surrogate has no UTF-8 form at all): written out they would be another value or no XML.
const NOT_XML = /[\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function xmlEscape(s: string): string {
  if (CONTROL.test(s)) throw new RenderError(`plist value contains a control character: ${JSON.stringify(s)}`);
  if (NOT_XML.test(s)) throw new RenderError(`plist value contains a character XML cannot carry: ${JSON.stringify(s)}`);
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
