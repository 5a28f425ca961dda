"""``.. cli-reference::``: the command line reference, generated from the argparse parser.

Reads :func:`keras_imbalance.cli.build_parser` at build time, so every sub-command and option
(its flags, metavar, choices, default and help text) is documented as the CLI defines it.
"""

from __future__ import annotations

import argparse

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name) or "", sub


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    return parser._get_formatter()._expand_help(action)


def _plain(text: str) -> str:
    """Help text as plain words in reST: its markup characters escaped (``*_id`` is a
    pattern, not the start of an emphasis)."""
    for char in ("\\", "*", "`", "|", "_"):
        text = text.replace(char, "\\" + char)
    return text


def _literal(text: str) -> str:
    return "``" + text.replace("`", "'") + "``"


def _option_lines(parser: argparse.ArgumentParser) -> list[str]:
    lines: list[str] = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.help == argparse.SUPPRESS:  # a deprecated alias, hidden from --help too
            continue
        if action.option_strings:
            metavar = ""
            if action.nargs != 0:
                metavar = " " + (action.metavar or action.dest.upper())
            head = ", ".join(_literal(flag + metavar) for flag in action.option_strings)
        else:
            head = _literal(action.metavar or action.dest.upper())
            if action.nargs == "?":
                head += " (optional)"
        facts = []
        if action.choices is not None and not isinstance(action.choices, dict):
            facts.append("one of " + ", ".join(_literal(str(c)) for c in action.choices))
        if action.required and action.option_strings:
            facts.append("required")
        text = _plain(_help(parser, action))
        shown = action.nargs != 0 and action.default not in (None, argparse.SUPPRESS)
        if shown and "default" not in text:
            facts.append("default " + _literal(str(action.default)))
        if isinstance(action, argparse._AppendAction):
            facts.append("may be repeated")
        body = "; ".join(x for x in [text, *facts] if x) or "(no help text in the parser)"
        lines += [head, "   " + body.replace("\n", " "), ""]
    return lines


class CliReference(SphinxDirective):
    has_content = False
    required_arguments = 0

    def run(self):
        from keras_imbalance.cli import build_parser

        parser = build_parser()
        lines = [parser.description or "", "", ".. code-block:: text", ""]
        lines += ["   " + line for line in parser.format_usage().splitlines()]
        lines.append("")
        lines += _option_lines(parser)  # options of the program itself (--version ...)
        for name, help_text, sub in _subparsers(parser):
            title = f"{parser.prog} {name}"
            lines += [title, "-" * len(title), "", _plain(help_text.rstrip(".")) + ".", ""]
            lines += [".. code-block:: text", ""]
            lines += ["   " + line for line in sub.format_usage().splitlines()]
            lines += [""]
            lines += _option_lines(sub)
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="<cli-reference>"), container)
        return container.children


def setup(app):
    app.add_directive("cli-reference", CliReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
