"""Accounts: argon2 password hashes, roles and their scope, login throttling, login sessions and wall
tokens, the audit trail."""

from data_access.accounts.users import (
    DISPLAY_TOKEN_DAYS,
    FAILED,
    HASH_CONCURRENCY,
    SESSION_COOKIE,
    SESSION_HOURS,
    THROTTLED,
    LoginResult,
    authenticate,
    create_session,
    get_user,
    hash_password,
    public_user,
    revoke_session,
    revoke_user_sessions,
    scope_for,
    session_user,
    user_row,
    verify_password,
)

__all__ = [
    "DISPLAY_TOKEN_DAYS", "FAILED", "HASH_CONCURRENCY", "SESSION_COOKIE", "SESSION_HOURS", "THROTTLED", "LoginResult",
    "authenticate", "create_session", "get_user", "hash_password", "public_user", "revoke_session",
    "revoke_user_sessions", "scope_for", "session_user", "user_row", "verify_password",
]
