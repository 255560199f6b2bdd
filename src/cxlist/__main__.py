"""`python -m cxlist` runs the command-line tool."""

from cxlist.cli import main

main()
