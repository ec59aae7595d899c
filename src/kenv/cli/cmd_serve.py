"""kenv serve: the REST API and the dashboard; `kenv serve token` prints (or rotates) the token."""

from __future__ import annotations

import click

from kenv.cli.main import App

SERVE_EPILOG = """\b
Examples:
  kenv serve                          http://127.0.0.1:8765/ (the dashboard; the API under /api/v1)
  kenv serve --port 9000
  kenv serve token                    the bearer token the dashboard and the API ask for
  kenv serve token --rotate           a new token; the old one stops working at once
  curl -H "Authorization: Bearer $(kenv serve token)" http://127.0.0.1:8765/api/v1/environments

The OpenAPI document is at /api/v1/openapi.json."""


@click.group(invoke_without_command=True, epilog=SERVE_EPILOG)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port (0: any free).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the REST API (/api/v1) and the web dashboard (/) over the same workflows as the
    CLI, until Ctrl-C. Every API route but /api/v1/health needs `Authorization: Bearer TOKEN`
    (`kenv serve token`); the token is made on first start and kept 0600 in the data directory.
    Long operations return a job whose steps stream as server-sent events."""
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.find_object(App)
    assert app is not None
    from kenv.runtime.listen import is_loopback, listen
    from kenv.server.run import run

    settings = app.settings()
    sock = listen(host, port)
    if not is_loopback(host):
        click.echo(
            f"kenv: warning: listening on {host}: the API is reachable from the network (token required)", err=True
        )
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host

    def announce() -> None:
        click.echo(f"kenv serve: http://{shown}:{bound}/ (token: kenv serve token)")

    run(settings, sock, announce=announce)


@serve.command(short_help="Print the API token; --rotate makes a new one.")
@click.option("--rotate", is_flag=True, help="Make a new token; the old one stops working at once.")
@click.pass_obj
def token(app: App, rotate: bool) -> None:
    """Print the API token (made now if there is none yet); it is printed only here, when asked."""
    from kenv.server.auth import load_or_create_token, rotate_token

    data_dir = app.settings().data_dir
    click.echo(rotate_token(data_dir) if rotate else load_or_create_token(data_dir))
