"""Corpus analysis: who stands where across thousands of articles.

Example:
    >>> from stance.corpus import run_corpus
    >>> run_corpus("articles/", ["the JCPOA", "Afghanistan"], "out/", model="models/default")
"""

from stance.corpus.io import Article, BadRow, CorpusInputError, list_inputs, parse_columns, read_articles
from stance.corpus.merge import core_name, merge_speakers
from stance.corpus.run import CorpusError, run_corpus

__all__ = [
    "Article",
    "BadRow",
    "CorpusError",
    "CorpusInputError",
    "core_name",
    "list_inputs",
    "merge_speakers",
    "parse_columns",
    "read_articles",
    "run_corpus",
]
