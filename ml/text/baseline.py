"""The reference every fine-tuned model is compared against: TF-IDF + logistic regression, same split.

Word uni- and bigrams catch negation ("not bad") and short phrases; character 2-5-grams within word boundaries
catch typos and word forms ("aweosme", "disappointing"/"disappointed"). A transformer that cannot beat this on
the same rows is not earning its compute.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union


class TfidfLogisticBaseline:
    name = "tfidf_logreg"

    def __init__(self, regularisation: float = 4.0, seed: int = 0):
        self.pipeline = make_pipeline(
            make_union(
                TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True,
                                token_pattern=r"(?u)\b\w+\b|[^\w\s]"),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True,
                                min_df=2),
            ),
            LogisticRegression(C=regularisation, max_iter=2000, random_state=seed),
        )

    def fit(self, texts: Sequence[str], label_ids: np.ndarray) -> "TfidfLogisticBaseline":
        self.pipeline.fit(list(texts), label_ids)
        return self

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.pipeline.predict(list(texts))
