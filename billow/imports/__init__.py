"""Migration import: ``billow import`` brings clients, users, payers, groups, balances, services
and invoice numbering over from another billing system through a versioned bundle
(``bundle.py``), written only through each owning app's bulk import actions (docs/migration.md).
"""
