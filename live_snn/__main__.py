import sys

from live_snn.cli import main

sys.exit(main())
