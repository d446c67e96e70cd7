"""Privacy: erasing one organization or developer with proof (`apiwh erase`), and the erasure
list that keeps their events out of later loads (docs/governance.md)."""

# Where an erase builds the erased warehouse, under the warehouse's folder (privacy/erase.py).
ERASE_STAGE_DIR = ".erase"
