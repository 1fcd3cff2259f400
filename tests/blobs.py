"""Well-separated, standardised classification data for the scikit-learn estimator tests
(``make_classification`` with four informative features of six, one cluster a class)."""

from __future__ import annotations


def blobs(n, classes, seed):
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(
        n_samples=n,
        n_features=6,
        n_informative=4,
        n_redundant=0,
        n_classes=classes,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X), y
