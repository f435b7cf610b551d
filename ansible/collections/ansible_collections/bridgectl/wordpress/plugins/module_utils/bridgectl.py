# -*- coding: utf-8 -*-
# Copyright: bridgectl contributors
# SPDX-License-Identifier: MIT
"""Run bridgectl with --json and turn its document into Ansible's result conventions.

bridgectl is the one that plans, writes and redacts; these helpers only
translate: flags in, changed/files/notes/diff out, bridgectl's message and
exit code on failure.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

# bridgectl prints this instead of a credential file's diff or content.
SECRET_NOTICE = '(secret file: content not shown)'
REDACTED = '<redacted>'

HUNK = re.compile(r'^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@')


def common_argument_spec():
    """Options every module takes: where bridgectl is, and where the machine is."""
    return dict(
        site=dict(type='str'),
        root=dict(type='path'),
        executable=dict(type='path'),
    )


def base_command(module):
    """bridgectl's argv prefix: the given executable, else the first on PATH."""
    exe = module.params.get('executable') or module.get_bin_path('bridgectl', required=True)
    return [exe]


def common_flags(module):
    flags = []
    if module.params.get('root'):
        flags.append('--root=' + module.params['root'])
    if module.params.get('site'):
        flags.append('--site=' + module.params['site'])
    return flags


def redact(value, secrets):
    """Replace every secret in a result, wherever it sits (strings, lists, dicts)."""
    secrets = sorted((s for s in secrets if s), key=len, reverse=True)
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    if isinstance(value, dict):
        return dict((k, redact(v, secrets)) for k, v in value.items())
    return value


def run_json(module, args, env=None, secrets=()):
    """Run bridgectl with --json; return (document, rc, stderr). Fail when there is no document.

    The secret travels in the environment, never in argv (ps would show it).
    """
    argv = base_command(module) + args + ['--json']
    rc, out, err = module.run_command(argv, environ_update=env or {})
    try:
        doc = json.loads(out)
    except ValueError:
        module.fail_json(msg='bridgectl printed no JSON document (is %s bridgectl?)' % argv[0],
                         rc=rc, stdout=redact(out, secrets), stderr=redact(err, secrets),
                         cmd=redact(argv, secrets))
    if not isinstance(doc, dict):
        module.fail_json(msg='bridgectl printed JSON that is not an object', rc=rc)
    return redact(doc, secrets), rc, redact(err, secrets)


def error_message(doc, rc, stderr):
    error = doc.get('error') or {}
    msg = error.get('message') or (stderr.strip().splitlines() or ['bridgectl exited %d' % rc])[0]
    if error.get('fix'):
        msg = '%s (fix: %s)' % (msg, error['fix'])
    return msg


def fail_from(module, doc, rc, stderr, **extra):
    """Fail with bridgectl's own message, fix and exit code."""
    module.fail_json(msg=error_message(doc, rc, stderr), rc=rc,
                     error=doc.get('error'), notes=doc.get('notes', []), **extra)


def changed_of(doc):
    """A top-level `changed` when bridgectl prints one (issue #19), else from the per-file statuses."""
    if isinstance(doc.get('changed'), bool):
        return doc['changed']
    if doc.get('directories'):
        return True
    return any(f.get('status') != 'unchanged' for f in doc.get('files') or [])


def files_of(doc):
    return [dict(path=f.get('path'), status=f.get('status'), mode=f.get('mode')) for f in doc.get('files') or []]


def _split_diff(diff):
    """bridgectl's diff text -> (mode/owner lines, unified diff body)."""
    lines = diff.splitlines(True)
    head = []
    while lines and not lines[0].startswith('--- '):
        head.append(lines.pop(0))
    return head, lines


def _hunks(body):
    hunks = []
    for line in body:
        match = HUNK.match(line)
        if match:
            hunks.append(dict(old=(int(match.group(1)), int(match.group(2) or 1)),
                              new=(int(match.group(3)), int(match.group(4) or 1)), lines=[]))
        elif hunks:
            hunks[-1]['lines'].append(line)
    return hunks


def _side(hunk, keep):
    """One side of a hunk as file lines: keep ' ' and the given sign, honour '\\ No newline'."""
    out = []
    last = None
    for line in hunk['lines']:
        sign = line[:1]
        if sign == '\\':
            if last in (' ', keep) and out:
                out[-1] = out[-1].rstrip('\n')
            continue
        last = sign
        if sign in (' ', keep):
            text = line[1:]
            out.append(text if text.endswith('\n') else text + '\n')
    return out


def _patch(text, hunks, from_sign, to_sign, side):
    """Replace each hunk's `from` side in text with its `to` side; side names the header's range of text."""
    src = text.splitlines(True)
    out = []
    pos = 0
    for hunk in hunks:
        start, length = hunk[side]
        # A zero-length range names the line before it.
        at = start if length == 0 else start - 1
        out.extend(src[pos:at])
        pos = at + len(_side(hunk, from_sign))
        out.extend(_side(hunk, to_sign))
    out.extend(src[pos:])
    return ''.join(out)


def before_after(entry):
    """The file before and after, from bridgectl's `diff` and `content`, or None when unsure."""
    status = entry.get('status')
    diff = entry.get('diff') or ''
    after = entry.get('content')
    if SECRET_NOTICE in diff or (after is None and status != 'remove'):
        return SECRET_NOTICE + '\n', SECRET_NOTICE + '\n'
    after = after or ''
    if status == 'create':
        return '', after
    hunks = _hunks(_split_diff(diff)[1])
    before = _patch(after, hunks, '+', '-', 'new')
    # Trust the reconstruction only if the diff takes it back to bridgectl's content.
    if _patch(before, hunks, '-', '+', 'old') != after:
        return None
    return before, after


def diff_of(doc):
    """Ansible's diff: one before/after per changed file; bridgectl's own text where unsure."""
    result = []
    for entry in doc.get('files') or []:
        if entry.get('status') == 'unchanged':
            continue
        path = entry.get('path')
        pair = before_after(entry)
        head = ''.join(_split_diff(entry.get('diff') or '')[0])
        if pair is None:
            result.append(dict(prepared=entry.get('diff') or ''))
            continue
        before, after = pair
        item = dict(before_header=path, after_header=path, before=before, after=after)
        if head:
            # Mode and owner changes are not content: say them above the diff.
            item['before_header'] = '%s (%s)' % (path, head.strip().replace('\n', '; '))
        result.append(item)
    for entry in doc.get('directories') or []:
        result.append(dict(before_header=entry.get('path'), after_header=entry.get('path'),
                           before='', after='directory %s (mode %s)\n' % (entry.get('path'), entry.get('mode'))))
    return result


def mutation_result(module, doc, rc, stderr, argv_shown):
    """exit_json or fail_json for a command that writes (install, upgrade, uninstall, channel)."""
    if rc != 0 or doc.get('error'):
        fail_from(module, doc, rc, stderr, files=files_of(doc), cmd=argv_shown)
    result = dict(
        changed=changed_of(doc),
        files=files_of(doc),
        directories=doc.get('directories') or [],
        notes=doc.get('notes') or [],
        identities=doc.get('identities') or {},
        cmd=argv_shown,
    )
    if module._diff:
        result['diff'] = diff_of(doc)
    module.exit_json(**result)
