"""Exports: the pseudonymous responses as CSV or SPSS .sav, and the codebook."""
