"""Start ``rasa run`` with its HTTP API locked by the server-side token.

Usage (Rasa environment): ``python -m bot.rasa_server run --enable-api …`` — the same
arguments as ``rasa run``. This wrapper adds ``--auth-token`` from
``YIWEN_RASA_AUTH_TOKEN`` or the generated ``<data_dir>/secrets/rasa_auth_token``
(``get_settings().rasa_auth_token()``, :mod:`core.service_secrets`).

Why a wrapper instead of ``rasa run --auth-token …``: a command line is readable by
every user of the machine (``ps``, ``/proc/<pid>/cmdline``), and the token guards every
conversation's personal data. Changing ``sys.argv`` inside Python leaves the visible
command line as it was started, without the token.

With the token, Rasa refuses its admin API (tracker read/write, ``PUT/DELETE /model``,
``/model/parse``, ``/status``…) to anyone without ``?token=…``; the chat channels
(REST, socket.io, WeChat) and ``/`` stay public.
"""

from __future__ import annotations

import sys

from core.settings import get_settings


def rasa_argv(args: list[str], token: str) -> list[str]:
    """``rasa`` arguments with the token added to ``rasa run`` (any given one is replaced)."""
    if not args or args[0] != "run":
        return ["rasa", *args]
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--auth-token":
            skip = True
            continue
        if arg.startswith("--auth-token="):
            continue
        kept.append(arg)
    return ["rasa", *kept, "--auth-token", token]


def main() -> None:
    sys.argv = rasa_argv(sys.argv[1:], get_settings().rasa_auth_token())
    from bot import rasa_patches

    rasa_patches.install()
    from rasa.__main__ import main as rasa_main

    sys.exit(rasa_main())


if __name__ == "__main__":
    main()
