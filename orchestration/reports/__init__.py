"""Terminal views of the marts, one module per audience; each exposes register(subparsers)."""
