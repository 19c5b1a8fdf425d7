"""How `cmlops --help` reads: commands grouped by what they are for, and an example for each."""

from __future__ import annotations

import click

SECTIONS: dict[str, tuple[str, ...]] = {
    "Start": ("init",),
    "Spec": ("validate", "migrate", "schema", "plan", "apply", "bootstrap", "status", "predict", "destroy"),
    "Promotion (CI)": ("promote", "history", "rollback"),
    "AMP": ("amp",),
    "Local workspace": ("local",),
    "Workspace": ("configure", "whoami", "runtimes", "completion"),
}

EXAMPLES: dict[str, str] = {
    "init": "cmlops init wine && cd wine && cmlops bootstrap specs/wine-quality.yaml",
    "validate": "cmlops validate specs/wine-quality.yaml",
    "migrate": "cmlops migrate specs/old-v1.yaml --in-place   # or --out new.yaml; default: print",
    "schema": "cmlops schema > spec.schema.json",
    "plan": "cmlops plan specs/wine-quality.yaml > plan.txt   # or -o json, --detailed-exitcode",
    "apply": "cmlops apply specs/wine-quality.yaml --retrain",
    "bootstrap": "cmlops bootstrap specs/wine-quality.yaml",
    "status": "cmlops status specs/wine-quality.yaml -o json",
    "predict": 'cmlops predict specs/wine-quality.yaml --input \'{"input": [[7.4, 0.7, 0, 1.9, 0.076, 11, 34, '
    "0.9978, 3.51, 0.56, 9.4]]}'\n  cmlops predict specs/wine-quality.yaml --curl",
    "destroy": "cmlops destroy specs/wine-quality.yaml --include-prd",
    "promote": "cmlops --target cml promote specs/wine-quality.yaml --report promotion.json",
    "history": "cmlops history specs/wine-quality.yaml",
    "rollback": "cmlops rollback specs/wine-quality.yaml --to 3",
    "amp validate": "cmlops amp validate .",
    "amp plan": "cmlops amp plan . --project wine --env ALPHA=0.3",
    "amp launch": "cmlops amp launch https://github.com/<owner>/<amp>.git --yes",
    "amp export": "cmlops amp export specs/wine-quality.yaml --file .project-metadata.yaml",
    "amp import": "cmlops amp import . --file specs/imported.yaml",
    "local start": "cmlops local start",
    "local stop": "cmlops local stop",
    "local status": "cmlops local status",
    "local logs": "cmlops local logs <JOB_RUN_ID> --follow",
    "local prepare": "cmlops local prepare --python 3.10",
    "local ui": "cmlops local ui --no-browser",
    "configure": "cmlops configure --profile prod --url https://ml-xxxx.example.cloudera.site",
    "whoami": "cmlops --profile prod whoami",
    "runtimes": "cmlops runtimes --kernel 'Python 3.10'",
    "completion": 'eval "$(cmlops completion bash)"',
}


def add_example(command: click.Command, path: str) -> None:
    """Append the command's example to its help (kept here, so every command has one)."""
    example = EXAMPLES.get(path)
    if example and "Example" not in (command.help or "") and not command.epilog:
        command.epilog = "\b\nExample:\n  " + example


class SectionedGroup(click.Group):
    """A group whose help lists commands by section, in the order people use them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        ordered = [name for names in SECTIONS.values() for name in names if name in self.commands]
        return ordered + sorted(set(self.commands) - set(ordered))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        placed: set[str] = set()
        limit = formatter.width - 6 - max((len(n) for n in self.commands), default=0)
        for title, names in [*SECTIONS.items(), ("Other", tuple(sorted(self.commands)))]:
            rows = []
            for name in names:
                cmd = self.commands.get(name)
                if cmd is None or cmd.hidden or name in placed:
                    continue
                placed.add(name)
                rows.append((name, cmd.get_short_help_str(limit)))
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
