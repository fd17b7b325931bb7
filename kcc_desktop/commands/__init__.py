"""Headless subcommands. Each module here has ``register(subparsers)`` adding its parser(s), with
``set_defaults(run=callable)`` where ``run(args) -> int``; ``cli.py`` discovers them, so adding a
command never touches a shared file."""
