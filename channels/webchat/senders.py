"""Which sender ids a web client may name (REST webhook and socket.io).

Why: Rasa keys a conversation by its sender id alone, and its web channels take that id
from the client. Without a check, a client that sends someone else's id continues that
conversation and reads its replies (a half-filled complaint form: name, phone). So:

* conversations are namespaced by channel: the WeChat channel's are ``wx:<openid>``
  (:func:`channels.wechat_inbound.wechat_sender`), and a web sender id can never
  contain ``:``, so no web client can reach a WeChat conversation (or any other
  namespaced one);
* a web sender id is 8 to 64 of ``A-Z a-z 0-9 _ -``: the widget's random 32 hex digits,
  a server-issued socket.io session (``uuid4().hex``) or socket id, and the readable ids
  of ``yiwen shell``, the benchmarks and the tests all fit; paths (``../x``), blanks,
  Rasa's shared fallback ``default`` (what a REST body without ``sender`` gets) and
  anything longer do not.

A refused id gets :data:`BAD_SENDER`, in the channel's own shape (REST: 400). Runs in
the Rasa server (Python 3.10) and in the app's tests.
"""

from __future__ import annotations

import re

#: The one format of a web sender id. Matched with ``fullmatch`` (``$`` would let a
#: trailing newline through).
WEB_SENDER = re.compile(r"[A-Za-z0-9_-]{8,64}")

BAD_SENDER = "会话编号无效，请刷新页面后重新开始对话。如需人工服务，请拨打 12315 热线。"


def is_web_sender(value: object) -> bool:
    """Whether ``value`` may name a web conversation."""
    return isinstance(value, str) and WEB_SENDER.fullmatch(value) is not None
