"""``python -m training train CONFIG [--output DIR] [--section.key value ...]``, torchrun-friendly."""

from stance_cli.app import app

if __name__ == "__main__":
    app()
