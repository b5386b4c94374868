"""Entry script of the frozen app: the same ``main`` as the ``medpriv-desktop`` console script."""

import multiprocessing
import sys

if __name__ == "__main__":
    # Frozen Windows builds need this before anything could start a child process.
    multiprocessing.freeze_support()
    from medpriv_desktop.app import main

    sys.exit(main())
