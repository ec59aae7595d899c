"""config show, config path."""

from __future__ import annotations

import click

from kenv.cli.main import App
from kenv.cli.render import emit, output_option


@click.group()
def config() -> None:
    """Show the configuration and where each value comes from.

    \b
    Precedence: flag > KENV_* environment variable > config file > default.
    Examples:
      kenv config show
      KENV_SUBNET_POOL=10.210.0.0/16 kenv config show -o json
      kenv config path
    """


@config.command()
@output_option()
@click.pass_obj
def show(app: App, output: str) -> None:
    """Every setting with its source; passwords in db_url are masked."""
    from kenv.inventory.database import mask_url
    from kenv.settings import SETTING_KEYS

    settings = app.settings()
    values = {}
    for key in SETTING_KEYS:
        value = getattr(settings, key)
        if key == "db_url":
            value = mask_url(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif value is not None and not isinstance(value, int | str):
            value = str(value)  # a network or a port range; None (unset) stays null in JSON
        values[key] = value
    supply = settings.images
    images = {
        "mirrors": {registry: list(urls) for registry, urls in supply.mirrors.items()},
        "http_proxy": supply.http_proxy,
        "https_proxy": supply.https_proxy,
        "no_proxy": list(supply.no_proxy),
        "insecure_registries": list(supply.insecure_registries),
    }
    if output == "table":
        rows = [{"key": k, "value": v, "source": settings.sources.get(k, "default")} for k, v in values.items()]
        # The [images] table comes only from the config file; shown when it says something.
        source = str(settings.config_path) if supply.configured else "default"
        for key, value in images.items():
            shown = value
            if isinstance(value, dict):
                shown = "; ".join(f"{r}={','.join(urls)}" for r, urls in value.items()) or None
            elif isinstance(value, list):
                shown = ",".join(value) or None
            rows.append({"key": f"images.{key}", "value": shown, "source": source})
        emit(rows, output, columns=[("KEY", "key"), ("VALUE", "value"), ("SOURCE", "source")])
        return
    emit(
        {
            "config_file": str(settings.config_path),
            "data_dir": str(settings.data_dir),
            **values,
            "images": images,
            "sources": dict(settings.sources),
        },
        output,
    )


@config.command()
@click.pass_obj
def path(app: App) -> None:
    """The config file kenv reads (it need not exist)."""
    click.echo(str(app.settings().config_path))
