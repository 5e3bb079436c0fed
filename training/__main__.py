"""``python -m training train CONFIG [--output DIR] [--section.key value ...]``, torchrun-friendly."""

from stance.cli import app

if __name__ == "__main__":
    app()
