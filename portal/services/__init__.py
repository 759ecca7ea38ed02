"""Domain logic with no HTTP in it: the rules, the registries and the figures (HACKING.md)."""
