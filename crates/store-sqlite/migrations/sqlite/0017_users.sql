-- The dashboard's users and their sessions (parceld_store::UserStore).

-- A person of an account's team. E-mail addresses are unique on the server (lower case), so a
-- sign-in needs only the address. The password is an argon2id hash; failed sign-ins are counted
-- here so that a lock-out holds across restarts. Times in unix seconds, like accounts.
CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    email           TEXT    NOT NULL UNIQUE,
    role            TEXT    NOT NULL,
    password_hash   TEXT    NOT NULL,
    failed_sign_ins INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX users_by_account ON users (account_id, id);

-- A signed-in browser: the SHA-256 of its cookie's token (never the token), its CSRF token.
CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    csrf_token  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
