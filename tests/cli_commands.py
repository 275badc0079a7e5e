"""Every registered batterylab command, subcommands of groups included (for the CLI tests)."""

import click

from batterylab.cli import cli


def walk():
    """(name, click command) of every command; a group's subcommands as "group sub"."""
    ctx = click.Context(cli)
    for name in sorted(cli.list_commands(ctx)):
        cmd = cli.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            sub = click.Context(cmd)
            for s in sorted(cmd.list_commands(sub)):
                yield f"{name} {s}", cmd.get_command(sub, s)
        else:
            yield name, cmd
