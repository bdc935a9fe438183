"""Escaping data values for the two markups the app renders: HTML (``st.html``) and Markdown
(``st.title``, ``st.caption``, ``st.warning``, button labels…).

Unit names, event titles, subject names and URL parameters are data: a name such as
``<form action=…><input placeholder="密码"></form>`` or ``<style>*{color:red}</style>`` must show as
that text, never become an element. Markdown is escaped too: Streamlit's Markdown turns
``[点此重新登录](http://…)`` into a link and ``![](http://…)`` into an image fetched from outside.
"""

from __future__ import annotations

import html
import re

WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?i:(?<=www)(?=\.))|(?=@)")
_BREAKS = re.compile(r"[\r\n]+")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&^=\"'])")


def h(value: object) -> str:
    """``value`` as HTML text or attribute value (``None`` → empty): ``& < > " '`` escaped."""
    return "" if value is None else html.escape(str(value), quote=True)


def md(value: object) -> str:
    """``value`` as literal Markdown text: every Markdown/Streamlit-directive character backslash-escaped
    (CommonMark allows escaping any ASCII punctuation), line breaks folded to spaces.

    GitHub-flavoured Markdown also links bare ``http://…``, ``www.…`` and e-mail addresses after
    parsing, where escapes no longer count; an invisible WORD JOINER (U+2060) inside ``://``, after
    ``www`` and before ``@`` keeps them text. Only for display: never store what this returns.
    """
    text = "" if value is None else _BREAKS.sub(" ", str(value))
    text = _AUTOLINK.sub(WORD_JOINER, text)
    return _MD_SPECIAL.sub(r"\\\1", text)
