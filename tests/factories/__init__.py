"""Small factories, one per aggregate, for building test data in the test transaction."""
