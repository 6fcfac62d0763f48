"""The fuzz targets' seed builders, one module per reader family (make_corpus.py runs them)."""
