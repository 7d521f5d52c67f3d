"""Processing modules (DESIGN §4): the contract in ``base``, one folder per implementation."""
