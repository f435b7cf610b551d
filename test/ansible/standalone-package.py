#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Repack an npm tarball without runtime dependencies, when it declares any.

Interim, until issue #19's package lands: bridgectl's bundle (dist/) carries
everything it loads, but package.json still lists the libraries it was built
from, so `npm install -g` would fetch them from the registry. The test must
run offline, so it installs the same files without that list. Once the packed
package.json has no dependencies this does nothing (and can be deleted).
"""

import io
import json
import sys
import tarfile

path = sys.argv[1]
with tarfile.open(path, 'r:gz') as tar:
    members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]
meta = next(data for m, data in members if m.name == 'package/package.json')
package = json.loads(meta)
if not package.get('dependencies') and 'prepare' not in package.get('scripts', {}):
    sys.exit(0)
package.pop('dependencies', None)
# A tarball is installed as built: nothing to prepare.
package.get('scripts', {}).pop('prepare', None)
with tarfile.open(path, 'w:gz') as tar:
    for member, data in members:
        if member.name == 'package/package.json':
            data = (json.dumps(package, indent=2) + '\n').encode()
            member.size = len(data)
        tar.addfile(member, io.BytesIO(data) if data is not None else None)
print('repacked %s without its %s' % (path, 'runtime dependencies and prepare script'))
