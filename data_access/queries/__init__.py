"""Scoped read queries: one public function per figure, each taking the caller's ``Scope``, the focus
``Unit`` and (for facts over time) a ``Period``, and returning a documented DataFrame or dict."""
