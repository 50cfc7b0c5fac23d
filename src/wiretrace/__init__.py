"""wiretrace: trace how news text travels.

Find the passages one article reuses from another, group articles into story
families, and say who copied whom, with evidence a person can check.

>>> import wiretrace
>>> result = wiretrace.compare(text_a, text_b)        # doctest: +SKIP
>>> summary = wiretrace.run(["articles.jsonl"], db="news.duckdb")  # doctest: +SKIP
"""

from .api import RunSummary, compare, run
from .model import Article, Comparison, Passage, RunParams

__version__ = "0.1.0"
__all__ = [
    "Article",
    "Comparison",
    "Passage",
    "RunParams",
    "RunSummary",
    "compare",
    "run",
    "__version__",
]
