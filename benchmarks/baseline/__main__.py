import sys

from benchmarks.baseline.run import main

sys.exit(main())
