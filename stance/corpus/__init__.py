"""Corpus analysis: who stands where across thousands of articles.

Example:
    >>> from stance.corpus import run_corpus
    >>> run_corpus("articles/", ["the JCPOA", "Afghanistan"], "out/", model="models/default")
"""

from stance.corpus.io import Article, BadRow, CorpusInputError, list_inputs, parse_columns, read_articles
from stance.corpus.job import CorpusJob
from stance.corpus.merge import core_name, merge_speakers
from stance.corpus.run import BACKENDS, run_corpus, run_job
from stance.errors import CorpusError

__all__ = [
    "BACKENDS",
    "Article",
    "BadRow",
    "CorpusError",
    "CorpusInputError",
    "CorpusJob",
    "core_name",
    "list_inputs",
    "merge_speakers",
    "parse_columns",
    "read_articles",
    "run_corpus",
    "run_job",
]
