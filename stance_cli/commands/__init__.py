"""One module per ``stance`` command; ``stance_cli/app.py`` registers them."""
