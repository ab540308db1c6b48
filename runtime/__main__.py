"""`python -m runtime <rasa arguments>`: Rasa's own command line, with this
project's patches (runtime/rasa_patches.py) applied first."""

import sys

from runtime import rasa_patches


def main() -> None:
    rasa_patches.apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
