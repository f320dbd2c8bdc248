import sys

from tests.vendors import main

raise SystemExit(main(sys.argv[1:]))
