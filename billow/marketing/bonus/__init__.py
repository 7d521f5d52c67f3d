"""The bonus (loyalty) program: per-provider settings, rules, bonus accounts, point lots."""
