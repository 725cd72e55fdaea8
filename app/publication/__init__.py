"""Publication cuts: which responses the outputs of a wave may read (see app.models.publication)."""
