"""A process typing commands into the real dispatcher, for the concurrent-write tests.

    python -m tests.crm_core.write_worker URL USER_ID ROUNDS COMMAND [COMMAND ...]

Runs the commands in turn, ROUNDS times over, each in its own unit of work (as a chat
server does), and exits non-zero if any reply is an internal error.
"""

from __future__ import annotations

import sys

from crm_core.db import make_engine, make_session_factory
from crm_core.stages import DEFAULT_STAGES, Pipeline
from handlers.dispatcher import Dispatcher
from handlers.i18n import Translator
from handlers.reply import Command
from handlers.verbs import default_registry


def main() -> None:
    """Type every command ROUNDS times; count internal errors."""
    url, user_id, rounds, *commands = sys.argv[1:]
    engine = make_engine(url)
    dispatcher = Dispatcher(
        make_session_factory(engine), default_registry(), Pipeline(DEFAULT_STAGES)
    )
    crashes = 0
    sorry = Translator("en")("error.internal", ref="")[:30]
    for _ in range(int(rounds)):
        for text in commands:
            reply = dispatcher.dispatch(Command(int(user_id), "console", text=text))
            crashes += reply.text.startswith(sorry)
    engine.dispose()
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
