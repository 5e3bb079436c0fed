"""``python -m stance_cli ...`` is the ``stance`` command."""

from stance_cli.app import main

if __name__ == "__main__":
    main()
