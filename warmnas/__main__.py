import sys

from warmnas.cli import main

sys.exit(main())
