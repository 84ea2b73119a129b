"""``python -m bwm.site.worker JOB``: one part of a site build in a second process (``build._start_worker``).

JOB is JSON: warehouse, mirror, root (the new site folder), built_at and the gemeente codes to render. Prints
``{gemeente code: {page path: [kind, bytes]}}`` as JSON on stdout; errors go to stderr with a non-zero exit.
"""

import json
import sys

from bwm.site.build import render_part

if __name__ == "__main__":
    print(json.dumps(render_part(json.loads(sys.argv[1]))))
