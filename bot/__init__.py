"""careerbot: a Rasa career advisor that answers from structured knowledge files."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
# The career files, apart from the code that loads them (bot/knowledge.py, bot/vocab.py).
CONTENT_DIR = PACKAGE_DIR / "content"
KNOWLEDGE_DIR = CONTENT_DIR / "knowledge"
