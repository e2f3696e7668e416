"""``python -m animstudio`` runs the CLI."""

from animstudio.cli import main

if __name__ == "__main__":
    main()
