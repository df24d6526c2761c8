"""careerbot: a Rasa career advisor that answers from structured knowledge files."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
