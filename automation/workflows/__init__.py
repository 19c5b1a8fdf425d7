"""Compositions of reconcile + api + waits: bootstrap, promote, AMP launch."""
